/* The boxes in force at a picture's time (record/boxtrack.c), which
 * RECORD_MODE=annotated draws: the newest analysis at or before it, held
 * for at most REC_BOXTRACK_HOLD_NS, over a history that wraps. */
#include "check.h"

#include "../../record/boxtrack.h"

#define MS 1000000LL
#define T0 (86400LL * 1000000000LL) /* any CLOCK_MONOTONIC time */

static RecBoxTrack track; /* large: not on the stack */

static CwEvent event(int64_t mono_ns, int motion, uint16_t x)
{
    CwEvent ev = {.mono_ns = mono_ns,
                  .wall_ns = mono_ns + 17,
                  .width = 320,
                  .height = 180,
                  .motion = (uint8_t)motion};
    ev.box_count = 1;
    ev.boxes[0] = (CwBox){x, 2, 3, 4};
    return ev;
}

/* Analyses every 200 ms: each picture gets the newest at or before it. */
static void test_in_force(void)
{
    rec_boxtrack_init(&track);
    CHECK(rec_boxtrack_at(&track, T0) == NULL); /* nothing yet */
    for (int i = 0; i < 5; i++) {
        CwEvent ev = event(T0 + i * 200 * MS, 1, (uint16_t)(10 + i));
        rec_boxtrack_push(&track, &ev);
    }
    CHECK(rec_boxtrack_at(&track, T0 - 1) == NULL); /* before the first */
    const RecBoxTrackEntry *e = rec_boxtrack_at(&track, T0);
    CHECK(e && e->box_count == 1 && e->boxes[0].x == 10 && e->ref_w == 320 && e->ref_h == 180);
    e = rec_boxtrack_at(&track, T0 + 399 * MS); /* until the next analysis */
    CHECK(e && e->boxes[0].x == 11);
    e = rec_boxtrack_at(&track, T0 + 400 * MS);
    CHECK(e && e->boxes[0].x == 12);
    /* Held after the newest for REC_BOXTRACK_HOLD_NS, then no boxes. */
    CHECK(rec_boxtrack_at(&track, T0 + 800 * MS + REC_BOXTRACK_HOLD_NS) != NULL);
    CHECK(rec_boxtrack_at(&track, T0 + 800 * MS + REC_BOXTRACK_HOLD_NS + 1) == NULL);
    /* Covered: an analysis at or after the time is in. */
    CHECK(rec_boxtrack_covers(&track, T0 + 800 * MS));
    CHECK(!rec_boxtrack_covers(&track, T0 + 800 * MS + 1));
}

/* An analysis without motion draws nothing, whatever regions it saw. */
static void test_no_motion(void)
{
    rec_boxtrack_init(&track);
    CwEvent ev = event(T0, 0, 10);
    rec_boxtrack_push(&track, &ev);
    const RecBoxTrackEntry *e = rec_boxtrack_at(&track, T0 + 10 * MS);
    CHECK(e && e->box_count == 0);
    ev = event(T0 + 200 * MS, 1, 11);
    ev.box_count = 60000; /* more than an event holds: capped */
    rec_boxtrack_push(&track, &ev);
    e = rec_boxtrack_at(&track, T0 + 200 * MS);
    CHECK(e && e->box_count == CW_MAX_BOXES);
}

/* Three times the depth: only the newest REC_BOXTRACK_DEPTH are kept, and
 * the search is right across the wrap. */
static void test_wrap(void)
{
    rec_boxtrack_init(&track);
    uint64_t n = 3 * REC_BOXTRACK_DEPTH + 7;
    for (uint64_t i = 0; i < n; i++) {
        CwEvent ev = event(T0 + (int64_t)i * 100 * MS, 1, (uint16_t)i);
        rec_boxtrack_push(&track, &ev);
    }
    for (uint64_t i = n - REC_BOXTRACK_DEPTH; i < n; i++) {
        const RecBoxTrackEntry *e = rec_boxtrack_at(&track, T0 + (int64_t)i * 100 * MS + 50 * MS);
        CHECK(e && e->boxes[0].x == (uint16_t)i);
    }
    /* Older than the history: not known. */
    CHECK(rec_boxtrack_at(&track, T0 + (int64_t)(n - REC_BOXTRACK_DEPTH - 1) * 100 * MS) == NULL);
}

/* Events out of order (the monotonic clock never does this): the history
 * starts again rather than misleading the search. */
static void test_step_back(void)
{
    rec_boxtrack_init(&track);
    CwEvent ev = event(T0 + 1000 * MS, 1, 1);
    rec_boxtrack_push(&track, &ev);
    ev = event(T0, 1, 2);
    rec_boxtrack_push(&track, &ev);
    const RecBoxTrackEntry *e = rec_boxtrack_at(&track, T0 + 1000 * MS);
    CHECK(e && e->boxes[0].x == 2);
    CHECK(rec_boxtrack_at(&track, T0 - 1) == NULL);
}

/* The wall clock steps an hour forward and back between analyses: the
 * boxes are found by the monotonic time alone. */
static void test_wall_step(void)
{
    rec_boxtrack_init(&track);
    for (int i = 0; i < 6; i++) {
        CwEvent ev = event(T0 + i * 200 * MS, 1, (uint16_t)(10 + i));
        ev.wall_ns += (i % 3 == 1 ? 3600 : i % 3 == 2 ? -3600 : 0) * 1000 * MS;
        rec_boxtrack_push(&track, &ev);
    }
    for (int i = 0; i < 6; i++) {
        const RecBoxTrackEntry *e = rec_boxtrack_at(&track, T0 + i * 200 * MS + 100 * MS);
        CHECK(e && e->boxes[0].x == 10 + i);
    }
}

int main(void)
{
    RUN(test_wall_step);
    RUN(test_in_force);
    RUN(test_no_motion);
    RUN(test_wrap);
    RUN(test_step_back);
    return 0;
}
