/*
 * When changed regions are motion: see confirm.h for the rules.
 */
#include "confirm.h"

#include <stdlib.h>
#include <string.h>

/* Boxes closer than this share of the frame's width continue one track. */
#define NEAR_FRACTION 0.02

/* Rule 1's displacement: this share of the frame, or of the first box. */
#define MOVE_FRAME_FRACTION 0.015
#define MOVE_BOX_FRACTION   0.15

void cw_confirm_init(CwConfirm *c, int min_frames, int grace_frames)
{
    memset(c, 0, sizeof(*c));
    c->min_frames = min_frames < 1 ? 1 : min_frames > 1000 ? 1000 : min_frames;
    c->grace_frames = grace_frames < 0 ? 0 : grace_frames > 1000 ? 1000 : grace_frames;
}

void cw_confirm_reset(CwConfirm *c)
{
    c->count = 0;
}

static bool boxes_near(const CwBox *a, const CwBox *b, int gap)
{
    return a->x - gap < b->x + b->w && b->x - gap < a->x + a->w && a->y - gap < b->y + b->h &&
           b->y - gap < a->y + a->h;
}

static CwBox box_union(CwBox a, const CwBox *b)
{
    int x0 = a.x < b->x ? a.x : b->x, y0 = a.y < b->y ? a.y : b->y;
    int x1 = a.x + a.w > b->x + b->w ? a.x + a.w : b->x + b->w;
    int y1 = a.y + a.h > b->y + b->h ? a.y + a.h : b->y + b->h;
    return (CwBox){(uint16_t)x0, (uint16_t)y0, (uint16_t)(x1 - x0), (uint16_t)(y1 - y0)};
}

static bool box_contains(const CwBox *outer, const CwBox *inner)
{
    return inner->x >= outer->x && inner->y >= outer->y &&
           inner->x + inner->w <= outer->x + outer->w && inner->y + inner->h <= outer->y + outer->h;
}

/* How far `home` reaches beyond `first` on its farthest side, in x and y. */
static void reach(const CwBox *first, const CwBox *home, int *dx, int *dy)
{
    int left = first->x - home->x, right = (home->x + home->w) - (first->x + first->w);
    int top = first->y - home->y, bottom = (home->y + home->h) - (first->y + first->h);
    *dx = left > right ? left : right;
    *dy = top > bottom ? top : bottom;
}

/* How far the home reaches beyond the first box, in rule 1's steps. */
static float reach_steps(const CwTrack *t, int width, int height)
{
    double step_x = MOVE_FRAME_FRACTION * width, step_y = MOVE_FRAME_FRACTION * height;
    int dx, dy;
    if (MOVE_BOX_FRACTION * t->first.w > step_x)
        step_x = MOVE_BOX_FRACTION * t->first.w;
    if (MOVE_BOX_FRACTION * t->first.h > step_y)
        step_y = MOVE_BOX_FRACTION * t->first.h;
    reach(&t->first, &t->home, &dx, &dy);
    double r = dx / step_x > dy / step_y ? dx / step_x : dy / step_y;
    return r > 0 ? (float)r : 0;
}

static int find_root(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Which of two tracks to drop first when there is no room: the one not
 * motion, then the one missed longer, then the shorter run. */
static int less_worth(const void *pa, const void *pb)
{
    const CwTrack *a = pa, *b = pb;
    if (a->motion != b->motion)
        return a->motion ? -1 : 1;
    if (a->missed != b->missed)
        return a->missed - b->missed;
    return b->run - a->run;
}

int cw_confirm_update(CwConfirm *c, const CwBox *boxes, int count, int width, int height,
                      uint8_t *keep)
{
    /* Nodes: the old tracks, then the boxes; tracks and boxes that are near
     * are joined, and each group with a box is a track of this frame. */
    int parent[CW_CONFIRM_MAX_TRACKS + CW_MAX_BOXES];
    CwTrack next[CW_CONFIRM_MAX_TRACKS + CW_MAX_BOXES];
    int next_count = 0, kept = 0;
    const int tracks = c->count;
    int gap = (int)(NEAR_FRACTION * width);

    if (count > CW_MAX_BOXES)
        count = CW_MAX_BOXES;
    if (count < 0)
        count = 0;
    if (gap < 1)
        gap = 1;
    for (int i = 0; i < tracks + count; i++)
        parent[i] = i;
    for (int b = 0; b < count; b++) {
        keep[b] = 0;
        for (int t = 0; t < tracks; t++) {
            if (boxes_near(&boxes[b], &c->tracks[t].last, gap)) {
                int rb = find_root(parent, tracks + b), rt = find_root(parent, t);
                if (rb != rt)
                    parent[rb] = rt;
            }
        }
    }

    for (int root = 0; root < tracks + count; root++) {
        if (find_root(parent, root) != root)
            continue;
        CwTrack n;
        bool have_box = false, have_track = false, seen_before = false;
        int oldest_run = -1, run_before = 0;
        memset(&n, 0, sizeof(n));
        for (int i = 0; i < tracks + count; i++) {
            if (find_root(parent, i) != root)
                continue;
            if (i >= tracks) {
                const CwBox *b = &boxes[i - tracks];
                n.last = have_box ? box_union(n.last, b) : *b;
                have_box = true;
                continue;
            }
            const CwTrack *t = &c->tracks[i];
            /* The merged track keeps the first box of the longest-lived one. */
            if (t->run + t->missed > oldest_run) {
                oldest_run = t->run + t->missed;
                n.first = t->first;
            }
            n.home = have_track ? box_union(n.home, &t->home) : t->home;
            if (t->jump > n.jump)
                n.jump = t->jump;
            if (t->reach > n.reach)
                n.reach = t->reach;
            n.moved |= t->moved;
            n.motion |= t->motion;
            if (t->missed == 0) {
                seen_before = true;
                if (t->run > run_before)
                    run_before = t->run;
            }
            if (!have_track || t->missed < n.missed)
                n.missed = t->missed;
            have_track = true;
        }
        if (!have_box) {
            /* Rule 3: a track not seen survives its grace frames. */
            n = c->tracks[root];
            n.missed++;
            if (n.missed <= c->grace_frames)
                next[next_count++] = n;
            continue;
        }
        if (!have_track) {
            n.first = n.last;
            n.home = n.last;
        } else if (!box_contains(&n.home, &n.last)) {
            n.home = box_union(n.home, &n.last);
        }
        /* Merged tracks may reach further at once: that counts as this
         * frame's growth too. */
        float reach_now = reach_steps(&n, width, height);
        if (reach_now - n.reach > n.jump)
            n.jump = reach_now - n.reach;
        n.reach = reach_now;
        n.run = seen_before ? run_before + 1 : 1; /* rule 2 */
        n.missed = 0;
        n.moved |= n.reach >= 1.0f && n.reach - n.jump >= 0.5f;
        if (c->min_frames <= 1 || (n.run >= c->min_frames && n.moved))
            n.motion = true;
        if (n.motion) {
            for (int i = tracks; i < tracks + count; i++) {
                if (find_root(parent, i) == root) {
                    keep[i - tracks] = 1;
                    kept++;
                }
            }
        }
        next[next_count++] = n;
    }

    if (next_count > CW_CONFIRM_MAX_TRACKS) {
        qsort(next, (size_t)next_count, sizeof(next[0]), less_worth);
        next_count = CW_CONFIRM_MAX_TRACKS;
    }
    memcpy(c->tracks, next, sizeof(next[0]) * (size_t)next_count);
    c->count = next_count;
    return kept;
}
