#include "watchdog.h"

#include "clock.h"
#include "exitcode.h"
#include "log.h"

#include <libavutil/error.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

/* libav checks its interrupt callback at least every 100 ms while it waits,
 * so a call still running this long after its deadline is not checking. */
#define WATCHDOG_GRACE_NS (3 * CW_NS_PER_SEC)
#define WATCHDOG_STOP_NS  (2 * CW_NS_PER_SEC)
/* Both limits are whole seconds: looking twice a second is plenty. Every
 * look wakes this thread in each capture worker, all day long. */
#define WATCHDOG_PERIOD_NS (500 * CW_NS_PER_MSEC)

static pthread_t watchdog_thread;
static bool watchdog_running;
/* The thread waits on the condition between two looks, so a stop wakes it
 * at once instead of after a period (every capture exit and reconnect
 * joins it). */
static pthread_mutex_t watchdog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_wake;
static bool watchdog_quit;                   /* under watchdog_lock */
static _Atomic int64_t watchdog_deadline_ns; /* 0: disarmed */
static const char *_Atomic watchdog_what;
static const volatile sig_atomic_t *watchdog_stop;

static void *watchdog_main(void *arg)
{
    (void)arg;
    int64_t stop_seen_ns = 0;

    for (;;) {
        /* The condition's clock is CLOCK_MONOTONIC (capture_watchdog_start()). */
        const struct timespec until = cw_ns_to_timespec(cw_mono_ns() + WATCHDOG_PERIOD_NS);
        pthread_mutex_lock(&watchdog_lock);
        int waited = 0; /* 0 again on a spurious wake; ETIMEDOUT (or an error): look */
        while (!watchdog_quit && waited == 0)
            waited = pthread_cond_timedwait(&watchdog_wake, &watchdog_lock, &until);
        bool quit = watchdog_quit;
        pthread_mutex_unlock(&watchdog_lock);
        if (quit)
            break;
        if (waited != ETIMEDOUT) {
            /* Cannot happen with a valid time and the lock held; if it
             * did, sleeping keeps the looks at their period, not a spin. */
            const struct timespec period = cw_ns_to_timespec(WATCHDOG_PERIOD_NS);
            nanosleep(&period, NULL);
        }
        int64_t now = cw_mono_ns();
        if (*watchdog_stop) {
            if (!stop_seen_ns)
                stop_seen_ns = now;
            if (now - stop_seen_ns > WATCHDOG_STOP_NS) {
                cw_warn("stop requested but FFmpeg did not return within %lld s; exiting anyway",
                        (long long)(WATCHDOG_STOP_NS / CW_NS_PER_SEC));
                _exit(CW_EXIT_OK);
            }
            continue;
        }
        int64_t deadline = atomic_load(&watchdog_deadline_ns);
        if (deadline && now > deadline + WATCHDOG_GRACE_NS) {
            /* The main thread is stuck in libav: nothing can be cleaned up
             * from here, and the rings stay consistent without it (a slot
             * being written is simply never published). */
            cw_error("camera stalled: FFmpeg blocked %lld s past its deadline while %s; exiting",
                     (long long)((now - deadline) / CW_NS_PER_SEC), atomic_load(&watchdog_what));
            _exit(CW_EXIT_TEMPFAIL);
        }
    }
    return NULL;
}

int capture_watchdog_start(const volatile sig_atomic_t *stop)
{
    sigset_t block, old;
    int ret;

    if (watchdog_running)
        return 0; /* one watchdog a process */
    watchdog_stop = stop;
    watchdog_quit = false;
    pthread_condattr_t attr;
    ret = pthread_condattr_init(&attr);
    if (ret == 0)
        ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (ret == 0)
        ret = pthread_cond_init(&watchdog_wake, &attr);
    pthread_condattr_destroy(&attr);
    if (ret != 0)
        return AVERROR(ret);
    /* The thread inherits this mask: stop signals must go to the main thread,
     * where they interrupt the blocking call (EINTR) it is in. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    ret = pthread_create(&watchdog_thread, NULL, watchdog_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret != 0) {
        pthread_cond_destroy(&watchdog_wake);
        return AVERROR(ret); /* pthread functions return an errno */
    }
    watchdog_running = true;
    return 0;
}

void capture_watchdog_arm(int64_t deadline_ns, const char *what)
{
    atomic_store(&watchdog_what, what);
    atomic_store(&watchdog_deadline_ns, deadline_ns);
}

void capture_watchdog_disarm(void)
{
    atomic_store(&watchdog_deadline_ns, 0);
}

void capture_watchdog_stop(void)
{
    if (!watchdog_running)
        return;
    pthread_mutex_lock(&watchdog_lock);
    watchdog_quit = true;
    pthread_cond_signal(&watchdog_wake);
    pthread_mutex_unlock(&watchdog_lock);
    pthread_join(watchdog_thread, NULL);
    pthread_cond_destroy(&watchdog_wake);
    watchdog_running = false;
}
