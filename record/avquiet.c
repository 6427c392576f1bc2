#include "avquiet.h"

#include <libavutil/log.h>

int rec_avquiet_begin(void)
{
    int level = av_log_get_level();
    /* At VERBOSE and beyond (LOGLEVEL=DEBUG) the lines are wanted. */
    if (level >= AV_LOG_INFO && level < AV_LOG_VERBOSE)
        av_log_set_level(AV_LOG_WARNING);
    return level;
}

void rec_avquiet_end(int level)
{
    av_log_set_level(level);
}
