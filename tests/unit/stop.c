/* The supervisor's ordered stop, row by row (supervisor/stop.c's table). */
#include "check.h"

#include "../../supervisor/stop.h"

#include <stdbool.h>

enum { CAPTURE_GONE = 0, CAPTURE_ALIVE = 1 };
enum { OTHERS_GONE = 0, OTHERS_ALIVE = 1 };

static SupStopStep step(enum SupRunState state, enum SupStopEvent event, bool capture, bool others,
                        unsigned signals)
{
    return sup_stop_step(state, event, capture, others, signals);
}

#define CHECK_STEP(s, want_state, want_actions)                                                    \
    do {                                                                                           \
        SupStopStep s_ = (s);                                                                      \
        CHECK_EQ_U64(s_.state, (want_state));                                                      \
        CHECK_EQ_U64(s_.actions, (want_actions));                                                  \
    } while (0)

/* A stop begins with capture alone: record and detect are not signalled yet. */
static void test_begin(void)
{
    for (int ev = SUP_STOP_REQUESTED; ev <= SUP_STOP_SIGNAL; ev++) {
        CHECK_STEP(step(SUP_RUNNING, ev, CAPTURE_ALIVE, OTHERS_ALIVE, 1), SUP_STOPPING_CAPTURE,
                   SUP_STOP_BEGIN | SUP_STOP_TERM_CAPTURE);
        CHECK_STEP(step(SUP_RUNNING, ev, CAPTURE_ALIVE, OTHERS_GONE, 1), SUP_STOPPING_CAPTURE,
                   SUP_STOP_BEGIN | SUP_STOP_TERM_CAPTURE);
        /* Capture already gone (the source ended, or it is waiting for a
         * restart): the rest goes at once. */
        CHECK_STEP(step(SUP_RUNNING, ev, CAPTURE_GONE, OTHERS_ALIVE, 1), SUP_STOPPING_REST,
                   SUP_STOP_BEGIN | SUP_STOP_TERM_REST);
        /* Nobody left: the run is over at once. */
        CHECK_STEP(step(SUP_RUNNING, ev, CAPTURE_GONE, OTHERS_GONE, 1), SUP_DONE,
                   SUP_STOP_BEGIN | SUP_STOP_TERM_REST | SUP_STOP_FINISH);
    }
}

/* Record or detect dying before capture changes nothing: capture still goes first. */
static void test_capture_goes_first(void)
{
    CHECK_STEP(step(SUP_STOPPING_CAPTURE, SUP_STOP_STAGE_GONE, CAPTURE_ALIVE, OTHERS_ALIVE, 0),
               SUP_STOPPING_CAPTURE, 0);
    CHECK_STEP(step(SUP_STOPPING_CAPTURE, SUP_STOP_STAGE_GONE, CAPTURE_ALIVE, OTHERS_GONE, 0),
               SUP_STOPPING_CAPTURE, 0);
    CHECK_STEP(step(SUP_STOPPING_CAPTURE, SUP_STOP_STAGE_GONE, CAPTURE_GONE, OTHERS_ALIVE, 0),
               SUP_STOPPING_REST, SUP_STOP_TERM_REST);
    CHECK_STEP(step(SUP_STOPPING_CAPTURE, SUP_STOP_STAGE_GONE, CAPTURE_GONE, OTHERS_GONE, 0),
               SUP_DONE, SUP_STOP_TERM_REST | SUP_STOP_FINISH);
}

static void test_rest_then_done(void)
{
    CHECK_STEP(step(SUP_STOPPING_REST, SUP_STOP_STAGE_GONE, CAPTURE_GONE, OTHERS_ALIVE, 0),
               SUP_STOPPING_REST, 0);
    CHECK_STEP(step(SUP_STOPPING_REST, SUP_STOP_STAGE_GONE, CAPTURE_GONE, OTHERS_GONE, 0), SUP_DONE,
               SUP_STOP_FINISH);
}

/* A stop under way is not begun again, whoever asks. */
static void test_second_request_ignored(void)
{
    for (int st = SUP_STOPPING_CAPTURE; st <= SUP_DONE; st++)
        for (int c = 0; c < 2; c++)
            for (int o = 0; o < 2; o++)
                CHECK_STEP(step(st, SUP_STOP_REQUESTED, c, o, 0), st, 0);
}

static void test_deadlines(void)
{
    CHECK_STEP(step(SUP_STOPPING_CAPTURE, SUP_STOP_CAPTURE_OVERDUE, CAPTURE_ALIVE, OTHERS_ALIVE, 0),
               SUP_STOPPING_CAPTURE, SUP_STOP_KILL_CAPTURE);
    /* Record's clip is not hurried along with capture. */
    CHECK_STEP(step(SUP_STOPPING_REST, SUP_STOP_CAPTURE_OVERDUE, CAPTURE_GONE, OTHERS_ALIVE, 0),
               SUP_STOPPING_REST, 0);
    CHECK_STEP(step(SUP_STOPPING_CAPTURE, SUP_STOP_OVERDUE, CAPTURE_ALIVE, OTHERS_ALIVE, 0),
               SUP_STOPPING_CAPTURE, SUP_STOP_KILL_ALL);
    CHECK_STEP(step(SUP_STOPPING_REST, SUP_STOP_OVERDUE, CAPTURE_GONE, OTHERS_ALIVE, 0),
               SUP_STOPPING_REST, SUP_STOP_KILL_ALL);
    /* A timer that fires after the end does nothing. */
    CHECK_STEP(step(SUP_DONE, SUP_STOP_OVERDUE, CAPTURE_GONE, OTHERS_GONE, 0), SUP_DONE, 0);
    CHECK_STEP(step(SUP_RUNNING, SUP_STOP_OVERDUE, CAPTURE_ALIVE, OTHERS_ALIVE, 0), SUP_RUNNING, 0);
}

/* The first signal during a stop we began is systemd's routine SIGTERM; the
 * second one is the impatient Ctrl-C. */
static void test_signals_during_stop(void)
{
    for (int st = SUP_STOPPING_CAPTURE; st <= SUP_STOPPING_REST; st++) {
        CHECK_STEP(step(st, SUP_STOP_SIGNAL, CAPTURE_ALIVE, OTHERS_ALIVE, 1), st, 0);
        CHECK_STEP(step(st, SUP_STOP_SIGNAL, CAPTURE_ALIVE, OTHERS_ALIVE, 2), st,
                   SUP_STOP_KILL_ALL);
        CHECK_STEP(step(st, SUP_STOP_SIGNAL, CAPTURE_GONE, OTHERS_ALIVE, 5), st, SUP_STOP_KILL_ALL);
    }
    CHECK_STEP(step(SUP_DONE, SUP_STOP_SIGNAL, CAPTURE_GONE, OTHERS_GONE, 3), SUP_DONE, 0);
}

/* Rules that hold for every input the table can be given. */
static void test_invariants(void)
{
    for (int st = SUP_RUNNING; st <= SUP_DONE; st++)
        for (int ev = SUP_STOP_REQUESTED; ev <= SUP_STOP_OVERDUE; ev++)
            for (int c = 0; c < 2; c++)
                for (int o = 0; o < 2; o++)
                    for (unsigned sig = 0; sig < 4; sig++) {
                        SupStopStep s = step(st, ev, c, o, sig);
                        /* No way back: a stop never turns into a run again. */
                        CHECK(s.state >= (enum SupRunState)st);
                        CHECK(st == SUP_RUNNING || s.state != SUP_RUNNING);
                        /* Only a run begins a stop, and a stop always begins there. */
                        CHECK(!(s.actions & SUP_STOP_BEGIN) || st == SUP_RUNNING);
                        CHECK(st != SUP_RUNNING || s.state == SUP_RUNNING ||
                              (s.actions & SUP_STOP_BEGIN));
                        /* Record and detect are never told to stop while capture runs. */
                        CHECK(!(s.actions & SUP_STOP_TERM_REST) || !c);
                        CHECK(!(s.actions & SUP_STOP_TERM_CAPTURE) || c);
                        /* The run ends exactly when nobody is left. */
                        CHECK(!(s.actions & SUP_STOP_FINISH) || (!c && !o));
                        CHECK(!(s.state == SUP_DONE && st != SUP_DONE) ||
                              (s.actions & SUP_STOP_FINISH));
                        CHECK(!(st == SUP_DONE) || s.actions == 0);
                    }
}

/*
 * A whole stop, carried out on three pretend processes that exit one
 * loop turn after SIGTERM: the signals go out capture first, then record
 * and detect, and the run ends once all three are gone.
 */
static void test_whole_stop(void)
{
    enum { CAP, REC, DET, N };
    static const char *const names[N] = {"capture", "record", "detect"};
    bool alive[N] = {true, true, true}, termed[N] = {false, false, false};
    enum SupRunState state = SUP_RUNNING;
    char trace[256] = "";

    SupStopStep s = step(state, SUP_STOP_SIGNAL, alive[CAP], alive[REC] || alive[DET], 1);
    for (int turn = 0; turn < 10 && state != SUP_DONE; turn++) {
        state = s.state;
        if (s.actions & SUP_STOP_TERM_CAPTURE) {
            termed[CAP] = true;
            strcat(trace, "TERM capture;");
        }
        if (s.actions & SUP_STOP_TERM_REST) {
            termed[REC] = termed[DET] = true;
            strcat(trace, "TERM record+detect;");
        }
        if (s.actions & SUP_STOP_FINISH)
            strcat(trace, "finish;");
        if (state == SUP_DONE)
            break;
        /* Next turn: one signalled process exits. */
        for (int i = 0; i < N; i++) {
            if (alive[i] && termed[i]) {
                alive[i] = false;
                strcat(trace, names[i]);
                strcat(trace, " gone;");
                break;
            }
        }
        s = step(state, SUP_STOP_STAGE_GONE, alive[CAP], alive[REC] || alive[DET], 1);
    }
    CHECK_EQ_U64(state, SUP_DONE);
    CHECK(strcmp(trace, "TERM capture;capture gone;TERM record+detect;record gone;detect gone;"
                        "finish;") == 0);
}

int main(void)
{
    RUN(test_begin);
    RUN(test_capture_goes_first);
    RUN(test_rest_then_done);
    RUN(test_second_request_ignored);
    RUN(test_deadlines);
    RUN(test_signals_during_stop);
    RUN(test_invariants);
    RUN(test_whole_stop);
    return 0;
}
