/* Which pictures reach detection after damage (capture/damage.c), rule by rule. */
#include "check.h"

#include "../../capture/damage.h"

#define S(x) ((int64_t)((x)*1e9))

static CapturePicture pic(uint64_t packet_no, bool damaged, bool restart_point)
{
    return (CapturePicture){packet_no, damaged, restart_point};
}

static enum CaptureVerdict judge(CaptureDamage *d, CapturePicture p, double at_s)
{
    return capture_damage_judge(d, &p, S(at_s));
}

/* Clean pictures with no damage before them are published, keyframe or not. */
static void test_clean(void)
{
    CaptureDamage d = {0};
    CHECK(judge(&d, pic(1, false, true), 0) == CAPTURE_PUBLISH);
    CHECK(judge(&d, pic(2, false, false), 0.1) == CAPTURE_PUBLISH);
    CHECK(!d.holding);
}

/* A damaged picture is withheld, and so is everything after it up to the
 * next clean keyframe, which is published and ends the hold. */
static void test_damaged_picture(void)
{
    CaptureDamage d = {0};
    CHECK(judge(&d, pic(1, false, true), 0) == CAPTURE_PUBLISH);
    CHECK(judge(&d, pic(2, true, false), 0.1) == CAPTURE_WITHHOLD_DAMAGED);
    CHECK(judge(&d, pic(3, false, false), 0.2) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(4, false, false), 0.3) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(5, false, true), 0.4) == CAPTURE_PUBLISH_RECOVERED);
    CHECK(judge(&d, pic(6, false, false), 0.5) == CAPTURE_PUBLISH);
}

/* A damaged keyframe does not end anything: the next one must be clean. */
static void test_damaged_keyframe(void)
{
    CaptureDamage d = {0};
    CHECK(judge(&d, pic(10, true, true), 0) == CAPTURE_WITHHOLD_DAMAGED);
    CHECK(judge(&d, pic(11, false, false), 0.1) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(20, true, true), 1) == CAPTURE_WITHHOLD_DAMAGED);
    CHECK(judge(&d, pic(21, false, false), 1.1) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(30, false, true), 2) == CAPTURE_PUBLISH_RECOVERED);
}

/* Loss seen while packet 7 was read: a keyframe from packet 7 itself may
 * be the one that lost data (or precede a picture lost whole), so only a
 * keyframe from a later packet ends the hold. */
static void test_loss_needs_a_later_keyframe(void)
{
    CaptureDamage d = {0};
    CHECK(judge(&d, pic(6, false, false), 0) == CAPTURE_PUBLISH);
    capture_damage_mark(&d, 7, S(0.1));
    CHECK(judge(&d, pic(7, false, true), 0.1) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(8, false, false), 0.2) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(9, false, true), 0.3) == CAPTURE_PUBLISH_RECOVERED);
}

/* More loss during a hold moves the keyframe that may end it further on. */
static void test_loss_during_hold(void)
{
    CaptureDamage d = {0};
    capture_damage_mark(&d, 5, 0);
    capture_damage_mark(&d, 9, S(0.4));
    capture_damage_mark(&d, 8, S(0.5)); /* an older packet number changes nothing */
    CHECK(judge(&d, pic(9, false, true), 0.5) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(10, false, true), 0.6) == CAPTURE_PUBLISH_RECOVERED);
}

/* A picture decoded late (reordered) from a packet before the damage is
 * clean itself, but in a hold it is withheld all the same unless it is a
 * keyframe after the damage. */
static void test_reordered(void)
{
    CaptureDamage d = {0};
    capture_damage_mark(&d, 12, 0);
    CHECK(judge(&d, pic(11, false, false), 0.1) == CAPTURE_WITHHOLD_DEPENDENT);
}

/* A stream without restart points is not blinded for good: after HOLD_MAX
 * pictures flow again, damaged ones still withheld. */
static void test_no_restart_points(void)
{
    CaptureDamage d = {0};
    double max_s = (double)CAPTURE_DAMAGE_HOLD_MAX_NS / 1e9;
    CHECK(judge(&d, pic(1, true, false), 0) == CAPTURE_WITHHOLD_DAMAGED);
    CHECK(judge(&d, pic(2, false, false), max_s - 0.1) == CAPTURE_WITHHOLD_DEPENDENT);
    /* Loss going on does not extend the hold of such a stream. */
    capture_damage_mark(&d, 3, S(max_s - 0.05));
    CHECK(judge(&d, pic(3, true, false), max_s - 0.01) == CAPTURE_WITHHOLD_DAMAGED);
    CHECK(judge(&d, pic(4, false, false), max_s) == CAPTURE_PUBLISH_HOLD_EXPIRED);
    CHECK(!d.holding);
    CHECK(judge(&d, pic(5, false, false), max_s + 0.1) == CAPTURE_PUBLISH);
    CHECK(judge(&d, pic(6, true, false), max_s + 0.2) == CAPTURE_WITHHOLD_DAMAGED);
}

/* A stream whose keyframes keep arriving (damaged, or too early to count)
 * has restart points: its hold waits for a clean one however long. */
static void test_keyframes_keep_the_hold(void)
{
    CaptureDamage d = {0};
    double max_s = (double)CAPTURE_DAMAGE_HOLD_MAX_NS / 1e9;
    CHECK(judge(&d, pic(1, true, true), 0) == CAPTURE_WITHHOLD_DAMAGED);
    double t = 0;
    uint64_t n = 2;
    for (int gop = 0; gop < 3; gop++) {
        t += max_s * 0.9;
        CHECK(judge(&d, pic(n++, false, false), t) == CAPTURE_WITHHOLD_DEPENDENT);
        CHECK(judge(&d, pic(n++, true, true), t + 0.01) == CAPTURE_WITHHOLD_DAMAGED);
    }
    t += max_s * 0.9;
    CHECK(judge(&d, pic(n, false, false), t) == CAPTURE_WITHHOLD_DEPENDENT);
    CHECK(judge(&d, pic(n + 1, false, true), t + 0.1) == CAPTURE_PUBLISH_RECOVERED);
}

int main(void)
{
    test_clean();
    test_damaged_picture();
    test_damaged_keyframe();
    test_loss_needs_a_later_keyframe();
    test_loss_during_hold();
    test_reordered();
    test_no_restart_points();
    test_keyframes_keep_the_hold();
    printf("damage: ok\n");
    return 0;
}
