/* Box scaling between picture sizes (record/boxscale.c), shared by the
 * sidecar's boxes and the snapshot's outlines. */
#include "check.h"

#include "../../record/boxscale.h"

#define CHECK_BOX(b, X, Y, W, H)                                                                   \
    do {                                                                                           \
        CwBox b_ = (b);                                                                            \
        CHECK_EQ_U64(b_.x, X);                                                                     \
        CHECK_EQ_U64(b_.y, Y);                                                                     \
        CHECK_EQ_U64(b_.w, W);                                                                     \
        CHECK_EQ_U64(b_.h, H);                                                                     \
    } while (0)

static void test_same_size(void)
{
    CHECK_BOX(rec_box_scale((CwBox){1, 2, 3, 4}, 640, 480, 640, 480), 1, 2, 3, 4);
}

/* From the detector's 320x180 to 1920x1080: a factor of 6. */
static void test_up(void)
{
    CHECK_BOX(rec_box_scale((CwBox){10, 20, 30, 40}, 320, 180, 1920, 1080), 60, 120, 180, 240);
    /* A box at the right and bottom borders stays at them. */
    CHECK_BOX(rec_box_scale((CwBox){300, 170, 20, 10}, 320, 180, 1920, 1080), 1800, 1020, 120, 60);
}

/* Sizes that do not divide: the edges are scaled, the size lies between them. */
static void test_edges(void)
{
    /* x0 = 1*1000/3 = 333, x1 = 2*1000/3 = 666: w = 333 (scaling w alone gives the same);
     * x0 = 2*1000/3 = 666, x1 = 3*1000/3 = 1000: w = 334, so the box ends at the border. */
    CHECK_BOX(rec_box_scale((CwBox){1, 0, 1, 3}, 3, 3, 1000, 1000), 333, 0, 333, 1000);
    CHECK_BOX(rec_box_scale((CwBox){2, 2, 1, 1}, 3, 3, 1000, 1000), 666, 666, 334, 334);
    /* Down: 1920 -> 320. */
    CHECK_BOX(rec_box_scale((CwBox){1915, 0, 5, 7}, 1920, 1080, 320, 180), 319, 0, 1, 1);
}

/* Sizes that are not positive leave the box as it is; results stay 16-bit. */
static void test_degenerate(void)
{
    CHECK_BOX(rec_box_scale((CwBox){1, 2, 3, 4}, 0, 480, 640, 480), 1, 2, 3, 4);
    CHECK_BOX(rec_box_scale((CwBox){1, 2, 3, 4}, 640, 480, 640, -1), 1, 2, 3, 4);
    CHECK_BOX(rec_box_scale((CwBox){60000, 0, 5000, 1}, 1000, 1, 2000, 1), 65535, 0, 0, 1);
}

int main(void)
{
    RUN(test_same_size);
    RUN(test_up);
    RUN(test_edges);
    RUN(test_degenerate);
    return 0;
}
