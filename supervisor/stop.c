/*
 * The ordered stop, one table. The first row that matches the state, the
 * event and what is alive gives the next state and the actions; an input
 * that matches no row changes nothing (a second stop request, the first
 * signal during a stop we began ourselves, a deadline after the end).
 *
 *  state             event             capture others signals next              actions
 *  ----------------  ----------------  ------- ------ ------- ----------------  ---------------
 *  RUNNING           requested/signal  alive   any    any     STOPPING_CAPTURE  begin, TERM capture
 *  RUNNING           requested/signal  gone    alive  any     STOPPING_REST     begin, TERM rest
 *  RUNNING           requested/signal  gone    gone   any     DONE              begin, TERM rest,
 *                                                                               finish
 *  STOPPING_CAPTURE  stage gone        gone    alive  -       STOPPING_REST     TERM rest
 *  STOPPING_CAPTURE  stage gone        gone    gone   -       DONE              TERM rest, finish
 *  STOPPING_REST     stage gone        gone    gone   -       DONE              finish
 *  STOPPING_CAPTURE  capture overdue   alive   any    -       (same)            KILL capture
 *  STOPPING_*        overdue           any     any    -       (same)            KILL all
 *  STOPPING_*        signal            any     any    >= 2    (same)            KILL all
 *
 * Why capture goes first and alone: record must see the last packets
 * capture wrote before it closes the clip, and detect must not go first
 * and leave record without events while capture still delivers. Why a
 * second signal kills: it is the impatient second Ctrl-C, and whatever
 * record was writing is lost, which is what the user asked for. Why the
 * first signal during a stop we began (a crash loop, say) does nothing:
 * it is systemd's routine SIGTERM, and the ordered stop is under way.
 */
#include "stop.h"

#include <stddef.h>

enum Alive { GONE, ALIVE, ANY };

/* Sets of states and events, so that one row can serve several. */
#define IN(x)      (1u << (x))
#define STOPPING   (IN(SUP_STOPPING_CAPTURE) | IN(SUP_STOPPING_REST))
#define STOP_ASKED (IN(SUP_STOP_REQUESTED) | IN(SUP_STOP_SIGNAL))
#define SAME       (-1) /* next: the state does not change */

typedef struct StopRow {
    unsigned states, events; /* IN() sets the row applies to */
    enum Alive capture, others;
    unsigned min_signals;
    int next; /* enum SupRunState, or SAME */
    unsigned actions;
} StopRow;

static const StopRow stop_table[] = {
    /* A stop begins; what is already gone decides how far it goes at once. */
    {IN(SUP_RUNNING), STOP_ASKED, ALIVE, ANY, 0, SUP_STOPPING_CAPTURE,
     SUP_STOP_BEGIN | SUP_STOP_TERM_CAPTURE},
    {IN(SUP_RUNNING), STOP_ASKED, GONE, ALIVE, 0, SUP_STOPPING_REST,
     SUP_STOP_BEGIN | SUP_STOP_TERM_REST},
    {IN(SUP_RUNNING), STOP_ASKED, GONE, GONE, 0, SUP_DONE,
     SUP_STOP_BEGIN | SUP_STOP_TERM_REST | SUP_STOP_FINISH},
    /* Capture is gone: the rest may go; nobody is left: the run is over. */
    {IN(SUP_STOPPING_CAPTURE), IN(SUP_STOP_STAGE_GONE), GONE, ALIVE, 0, SUP_STOPPING_REST,
     SUP_STOP_TERM_REST},
    {IN(SUP_STOPPING_CAPTURE), IN(SUP_STOP_STAGE_GONE), GONE, GONE, 0, SUP_DONE,
     SUP_STOP_TERM_REST | SUP_STOP_FINISH},
    {IN(SUP_STOPPING_REST), IN(SUP_STOP_STAGE_GONE), GONE, GONE, 0, SUP_DONE, SUP_STOP_FINISH},
    /* Deadlines, and the second signal. */
    {IN(SUP_STOPPING_CAPTURE), IN(SUP_STOP_CAPTURE_OVERDUE), ALIVE, ANY, 0, SAME,
     SUP_STOP_KILL_CAPTURE},
    {STOPPING, IN(SUP_STOP_OVERDUE), ANY, ANY, 0, SAME, SUP_STOP_KILL_ALL},
    {STOPPING, IN(SUP_STOP_SIGNAL), ANY, ANY, 2, SAME, SUP_STOP_KILL_ALL},
};
#define STOP_ROWS (sizeof(stop_table) / sizeof(stop_table[0]))

static bool alive_matches(enum Alive want, bool alive)
{
    return want == ANY || (want == ALIVE) == alive;
}

SupStopStep sup_stop_step(enum SupRunState state, enum SupStopEvent event, bool capture_alive,
                          bool others_alive, unsigned signals)
{
    for (size_t i = 0; i < STOP_ROWS; i++) {
        const StopRow *row = &stop_table[i];
        if ((row->states & IN(state)) && (row->events & IN(event)) &&
            alive_matches(row->capture, capture_alive) &&
            alive_matches(row->others, others_alive) && signals >= row->min_signals)
            return (SupStopStep){
                .state = row->next == SAME ? state : (enum SupRunState)row->next,
                .actions = row->actions,
            };
    }
    return (SupStopStep){.state = state, .actions = 0};
}
