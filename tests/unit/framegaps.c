/* frame_num gaps: damage, or the camera's design (capture/framegaps.c). */
#include "check.h"

#include "../../capture/framegaps.h"

/* Gaps in some intervals (pictures lost now and then) stay damage. */
static void test_gaps_now_and_then(void)
{
    CaptureFrameGaps g = {0};
    for (int gop = 0; gop < 40; gop++) {
        if (gop % 4 < 2) /* two intervals with gaps, two without, as e2e_corrupt's drop */
            CHECK(capture_frame_gaps_seen(&g, 2));
        CHECK(!capture_frame_gaps_keyframe(&g));
    }
    CHECK(!g.by_design);
    CHECK(capture_frame_gaps_seen(&g, 2));
}

/* A gap in every interval, no packet lost: the design, said once. */
static void test_gaps_in_every_interval(void)
{
    CaptureFrameGaps g = {0};
    int said = 0;
    for (int gop = 0; gop < 20; gop++) {
        bool damage = capture_frame_gaps_seen(&g, 2);
        CHECK(damage == (gop < CAPTURE_GAP_GOPS_BY_DESIGN));
        said += capture_frame_gaps_keyframe(&g);
    }
    CHECK_EQ_U64(said, 1);
    CHECK(!capture_frame_gaps_seen(&g, 2));
}

/* Intervals with RTP loss are no evidence: a lossy link stays damage. */
static void test_loss_is_no_evidence(void)
{
    CaptureFrameGaps g = {0};
    for (int gop = 0; gop < 20; gop++) {
        CHECK(capture_frame_gaps_seen(&g, 2));
        if (gop % 3 == 2)
            capture_frame_gaps_loss(&g);
        CHECK(!capture_frame_gaps_keyframe(&g));
    }
    CHECK(!g.by_design);
}

/* Gaps in every interval but not alike (a camera dropping frames from its
 * send buffer as the link allows): damage, however long it lasts. */
static void test_irregular_gaps(void)
{
    CaptureFrameGaps g = {0};
    for (int gop = 0; gop < 40; gop++) {
        CHECK(capture_frame_gaps_seen(&g, 1 + (unsigned long)(gop % 3)));
        CHECK(!capture_frame_gaps_keyframe(&g));
    }
    CHECK(!g.by_design);
}

int main(void)
{
    RUN(test_irregular_gaps);
    RUN(test_gaps_now_and_then);
    RUN(test_gaps_in_every_interval);
    RUN(test_loss_is_no_evidence);
    printf("framegaps: ok\n");
    return 0;
}
