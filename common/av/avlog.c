/*
 * av_log -> cw_log. libav formats its own lines (with a "[h264 @ 0x...]"
 * prefix); we split them into single lines, mask what cw_log cannot know is
 * a credential (HTTP/RTSP Authorization headers carry user:password in
 * base64), set the decoders' complaints aside for the decoder's summary
 * (a camera sending garbage makes them complain about every macroblock),
 * rate-limit the rest, and hand them to cw_log, which masks URL passwords.
 */
#define _GNU_SOURCE
#include "avlog.h"

#include "clock.h"
#include "log.h"

#include <libavutil/log.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* At most this many libav lines at INFO and above per window; the rest are counted. */
#define AVLOG_BUDGET    10
#define AVLOG_WINDOW_NS (10 * CW_NS_PER_SEC)

static pthread_mutex_t avlog_lock = PTHREAD_MUTEX_INITIALIZER;
static int avlog_print_prefix = 1; /* libav's state: a new line starts with a prefix */
static char avlog_partial[2048];   /* a line libav sent in pieces, until its '\n' */
static size_t avlog_partial_len;
static int avlog_partial_level = AV_LOG_TRACE;
static bool avlog_held;
static char avlog_held_last[512];
static int64_t avlog_window_start_ns;
static int avlog_window_count;
static unsigned long avlog_suppressed;
static unsigned long avlog_decoder_count;
static char avlog_decoder_last[256];
static bool avlog_decoder_important; /* avlog_decoder_last is a warning or error */
static unsigned long avlog_rtp_missed;
static _Atomic unsigned long avlog_frame_gaps;

static int map_level(int av_level)
{
    if (av_level <= AV_LOG_ERROR)
        return CW_LOG_ERROR; /* libav's PANIC and FATAL are not ours to call critical */
    if (av_level <= AV_LOG_WARNING)
        return CW_LOG_WARNING;
    if (av_level <= AV_LOG_INFO)
        return CW_LOG_INFO;
    return CW_LOG_DEBUG;
}

/* Call with avlog_lock held. */
static void report_suppressed(int64_t now_ns)
{
    if (now_ns - avlog_window_start_ns < AVLOG_WINDOW_NS)
        return;
    if (avlog_suppressed)
        cw_warn("%lu more FFmpeg messages suppressed in the last %lld s", avlog_suppressed,
                (long long)((now_ns - avlog_window_start_ns) / CW_NS_PER_SEC));
    avlog_suppressed = 0;
    avlog_window_count = 0;
    avlog_window_start_ns = now_ns;
}

/* Whether a message comes from a decoder (ours, or the one libavformat
 * runs while probing). AVCodecContext tells its category by a callback. */
static bool from_decoder(void *avcl)
{
    const AVClass *avc = avcl ? *(const AVClass *const *)avcl : NULL;
    if (!avc)
        return false;
    AVClassCategory category = avc->get_category ? avc->get_category(avcl) : avc->category;
    return category == AV_CLASS_CATEGORY_DECODER;
}

const char *cw_avlog_strip_context(const char *line)
{
    /* av_log_format_line2() writes "[%s @ %p] " for the context, after the
     * same for its parent if it has one. A bracket without " @ " in it is
     * the message's own text. */
    while (line[0] == '[') {
        const char *close = strstr(line, "] ");
        const char *at = strstr(line, " @ ");
        if (!close || !at || at > close)
            break;
        line = close + 2;
    }
    return line;
}

/* One complete line, without its newline. Call with avlog_lock held. */
static void emit_line(int av_level, bool decoder, char *line)
{
    /* "Authorization: Basic dXNlcjpwYXNz" is the password in base64, which
     * no pattern in cw_url_mask_credentials() recognises. */
    char *auth = strcasestr(line, "authorization:");
    if (auth)
        snprintf(auth, strlen(auth) + 1, "Authorization: ***");

    if (decoder && av_level <= AV_LOG_INFO) {
        /* "concealing 1384 DC, 1384 AC, 1384 MV errors" is INFO: count it too. */
        const char *text = cw_avlog_strip_context(line);
        /* Keep an error over a later "concealing ..." note: it says more. */
        if (av_level <= AV_LOG_WARNING || !avlog_decoder_important)
            snprintf(avlog_decoder_last, sizeof(avlog_decoder_last), "%s", text);
        avlog_decoder_important |= av_level <= AV_LOG_WARNING;
        avlog_decoder_count++;
        cw_debug("%s", line);
        return;
    }
    if (av_level > AV_LOG_INFO) {
        cw_log(map_level(av_level), "%s", line); /* opt-in debugging: not limited */
        return;
    }
    if (avlog_held && av_level <= AV_LOG_WARNING) {
        snprintf(avlog_held_last, sizeof(avlog_held_last), "%s", line);
        cw_debug("%s", line);
        return;
    }
    report_suppressed(cw_mono_ns());
    if (avlog_window_count >= AVLOG_BUDGET) {
        avlog_suppressed++;
        return;
    }
    avlog_window_count++;
    cw_log(map_level(av_level), "%s", line);
}

/* Split a buffer into lines: libav sends multi-line dumps in one call. */
static void emit_text(int av_level, bool decoder, char *text)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        if (line[strspn(line, " \t")] != '\0')
            emit_line(av_level, decoder, line);
    }
}

/*
 * The RTP demuxer's reorder buffer says "RTP: missed N packets" once per
 * gap in the sequence numbers, when it stops waiting for the gap (after
 * "max delay reached"); a packet arriving later still is dropped ("received
 * too late"). These are the only loss figures libavformat gives out: count
 * them at any log level, and keep their lines (one per gap on a lossy link)
 * at DEBUG. Returns the level to log the message at.
 */
static int note_rtp_loss(int level, const char *fmt, va_list vl)
{
    if (strncmp(fmt, "RTP: missed %d packets", 22) == 0) {
        va_list args;
        va_copy(args, vl);
        int missed = va_arg(args, int);
        va_end(args);
        pthread_mutex_lock(&avlog_lock);
        avlog_rtp_missed += missed > 0 ? (unsigned long)missed : 0;
        pthread_mutex_unlock(&avlog_lock);
        return AV_LOG_DEBUG;
    }
    if (strncmp(fmt, "max delay reached.", 18) == 0 ||
        strncmp(fmt, "RTP: dropping old packet received too late", 42) == 0)
        return AV_LOG_DEBUG;
    return level;
}

static void avlog_callback(void *avcl, int level, const char *fmt, va_list vl)
{
    char piece[1024];

    /* The upper bits of a level carry a colour hint for the terminal. */
    if (level >= 0)
        level &= 0xff;
    if (fmt && level == AV_LOG_WARNING)
        level = note_rtp_loss(level, fmt, vl);
    /* H.264's decoder conceals a picture lost whole from the bitstream (a
     * frame_num gap: no RTP loss shows it) by repeating the last reference,
     * flags nothing on the pictures that follow, and says so only here, at
     * DEBUG: count it at every level, before the level filter. */
    if (fmt && level == AV_LOG_DEBUG && strncmp(fmt, "Frame num gap", 13) == 0)
        atomic_fetch_add_explicit(&avlog_frame_gaps, 1, memory_order_relaxed);
    /* av_log() calls us for every message; the level filter is ours to apply,
     * and applying it first keeps libav's debug chatter from costing anything. */
    if (level > av_log_get_level())
        return;

    pthread_mutex_lock(&avlog_lock);
    av_log_format_line2(avcl, level, fmt, vl, piece, sizeof(piece), &avlog_print_prefix);
    size_t n = strlen(piece);
    if (n > sizeof(avlog_partial) - 1 - avlog_partial_len)
        n = sizeof(avlog_partial) - 1 - avlog_partial_len;
    memcpy(avlog_partial + avlog_partial_len, piece, n);
    avlog_partial_len += n;
    avlog_partial[avlog_partial_len] = '\0';
    if (level < avlog_partial_level)
        avlog_partial_level = level; /* a pieced line is as severe as its worst piece */

    bool complete = avlog_partial_len > 0 && avlog_partial[avlog_partial_len - 1] == '\n';
    if (complete || avlog_partial_len == sizeof(avlog_partial) - 1) {
        emit_text(avlog_partial_level, from_decoder(avcl), avlog_partial);
        avlog_partial_len = 0;
        avlog_partial_level = AV_LOG_TRACE;
    }
    pthread_mutex_unlock(&avlog_lock);
}

void cw_avlog_install(int cw_level)
{
    int av_level;
    switch (cw_level) {
    case CW_LOG_DEBUG:
        av_level = AV_LOG_DEBUG; /* not TRACE: it dumps requests and packets */
        break;
    case CW_LOG_INFO:
        av_level = AV_LOG_INFO;
        break;
    case CW_LOG_WARNING:
        av_level = AV_LOG_WARNING;
        break;
    case CW_LOG_ERROR:
        av_level = AV_LOG_ERROR;
        break;
    default:
        av_level = AV_LOG_QUIET; /* libav has nothing we would log as CRITICAL */
        break;
    }
    avlog_window_start_ns = cw_mono_ns();
    av_log_set_level(av_level);
    av_log_set_callback(avlog_callback);
}

void cw_avlog_hold(bool hold)
{
    pthread_mutex_lock(&avlog_lock);
    avlog_held = hold;
    if (hold)
        avlog_held_last[0] = '\0';
    pthread_mutex_unlock(&avlog_lock);
}

const char *cw_avlog_last(char *buf, size_t size)
{
    pthread_mutex_lock(&avlog_lock);
    snprintf(buf, size, "%s", avlog_held_last);
    pthread_mutex_unlock(&avlog_lock);
    return buf;
}

unsigned long cw_avlog_take_decoder_messages(char *last, size_t size)
{
    pthread_mutex_lock(&avlog_lock);
    unsigned long count = avlog_decoder_count;
    snprintf(last, size, "%s", avlog_decoder_last);
    avlog_decoder_count = 0;
    avlog_decoder_last[0] = '\0';
    avlog_decoder_important = false;
    pthread_mutex_unlock(&avlog_lock);
    return count;
}

unsigned long cw_avlog_take_rtp_missed(void)
{
    pthread_mutex_lock(&avlog_lock);
    unsigned long missed = avlog_rtp_missed;
    avlog_rtp_missed = 0;
    pthread_mutex_unlock(&avlog_lock);
    return missed;
}

unsigned long cw_avlog_take_frame_gaps(void)
{
    return atomic_exchange_explicit(&avlog_frame_gaps, 0, memory_order_relaxed);
}

void cw_avlog_tick(int64_t now_ns)
{
    pthread_mutex_lock(&avlog_lock);
    report_suppressed(now_ns);
    pthread_mutex_unlock(&avlog_lock);
}
