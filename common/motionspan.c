#include "motionspan.h"

bool cw_motion_over(int64_t last_motion_ns, int64_t last_event_ns, int64_t now_ns,
                    int64_t post_capture_ns, int64_t grace_ns)
{
    int64_t deadline = last_motion_ns + post_capture_ns;
    return now_ns > deadline && (last_event_ns > deadline || now_ns > deadline + grace_ns);
}
