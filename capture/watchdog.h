/*
 * Last line of defence against a libav call that ignores its interrupt
 * callback: a blocking DNS lookup inside avformat_open_input(), a V4L2
 * VIDIOC_DQBUF that retries on EINTR. A thread watches the deadline the main
 * thread armed before the call and ends the process when it passes by a
 * grace period (exit 75: the camera is the one not answering), or when a
 * stop request is not honoured in time (exit 0).
 *
 * Errors: negative AVERROR codes, as everywhere in capture/ (it wraps
 * libav). A system call's errno e is returned as AVERROR(e).
 */
#ifndef CAPTURE_WATCHDOG_H
#define CAPTURE_WATCHDOG_H

#include <signal.h>
#include <stdint.h>

/*
 * Start the watchdog thread. `stop` is the flag the signal handler sets.
 * SIGTERM and SIGINT stay with the calling thread, so that they interrupt
 * its blocking calls. Returns 0 (also when it runs already), or AVERROR(e)
 * for the error e of making its condition or its thread (EAGAIN: no thread
 * can be created now).
 */
int capture_watchdog_start(const volatile sig_atomic_t *stop);

/*
 * The main thread is entering a blocking call that should return by
 * `deadline_ns` (CLOCK_MONOTONIC); `what` (a static string such as
 * "connecting", "no data") names it in the message if it does not.
 */
void capture_watchdog_arm(int64_t deadline_ns, const char *what);

/* The blocking call returned. */
void capture_watchdog_disarm(void);

/* Stop and join the thread (no-op if it was never started). */
void capture_watchdog_stop(void);

#endif /* CAPTURE_WATCHDOG_H */
