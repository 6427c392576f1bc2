/*
 * --debug-dir: pictures and a CSV line per analysed frame; see debugdump.h.
 */
#define _GNU_SOURCE
#include "debugdump.h"

#include "timefmt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct CwDebugDump {
    char dir[PATH_MAX];
    FILE *csv;
    const CwPolygonSet *zones;
    uint64_t frames;
    uint8_t *rgb; /* the annotated frame, 3 bytes a pixel */
    size_t rgb_size;
};

static const uint8_t kYellow[3] = {255, 220, 0};
static const uint8_t kRed[3] = {255, 0, 0};
static const uint8_t kGreen[3] = {0, 230, 0};

int cw_debug_dump_open(const char *dir, const CwPolygonSet *zones, CwDebugDump **out)
{
    CwDebugDump *d = NULL;
    char path[PATH_MAX + 16];
    int ret = 0;

    *out = NULL;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    if (snprintf(d->dir, sizeof(d->dir), "%s", dir) >= (int)sizeof(d->dir)) {
        ret = -ENAMETOOLONG;
        goto end;
    }
    d->zones = zones;
    snprintf(path, sizeof(path), "%s/detect.csv", dir);
    d->csv = fopen(path, "w");
    if (!d->csv) {
        ret = -errno;
        goto end;
    }
    fprintf(d->csv, "time,frame,lag_ms,changed_percent,light_gain,light_offset,light_percent,"
                    "noise_sigma,threshold,lighting,warming_up,regions,motion,zones,boxes\n");
    if (fflush(d->csv) != 0)
        ret = -errno;
end:
    if (ret < 0)
        cw_debug_dump_free(&d);
    *out = d;
    return ret;
}

void cw_debug_dump_free(CwDebugDump **d)
{
    if (!d || !*d)
        return;
    if ((*d)->csv)
        fclose((*d)->csv);
    free((*d)->rgb);
    free(*d);
    *d = NULL;
}

/* One picture file: a header, then `rows` rows of `row_bytes` from `data`. */
static int write_picture(const char *path, const char *magic, int width, int height,
                         const uint8_t *data, size_t linesize, size_t row_bytes)
{
    FILE *f = fopen(path, "wb");
    int ret = 0;
    if (!f)
        return -errno;
    fprintf(f, "%s\n%d %d\n255\n", magic, width, height);
    for (int y = 0; y < height && ret == 0; y++)
        if (fwrite(data + (size_t)y * linesize, 1, row_bytes, f) != row_bytes)
            ret = errno ? -errno : -EIO;
    /* A full disk may only show when the buffer is flushed. */
    if (fclose(f) != 0 && ret == 0)
        ret = errno ? -errno : -EIO;
    return ret;
}

static void put(CwDebugDump *d, int w, int h, int x, int y, const uint8_t c[3])
{
    if (x < 0 || y < 0 || x >= w || y >= h)
        return;
    memcpy(d->rgb + ((size_t)y * w + x) * 3, c, 3);
}

/* Bresenham: every pixel between two points. */
static void line(CwDebugDump *d, int w, int h, int x0, int y0, int x1, int y1, const uint8_t c[3])
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        put(d, w, h, x0, y0, c);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* A box of the frame's pixels, outlined in the analysed picture. */
static void outline(CwDebugDump *d, const CwMotionView *v, const CwEvent *ev, const CwBox *b,
                    const uint8_t c[3])
{
    double sx = (double)v->width / ev->width, sy = (double)v->height / ev->height;
    int x0 = (int)(b->x * sx), y0 = (int)(b->y * sy);
    int x1 = (int)((b->x + b->w) * sx), y1 = (int)((b->y + b->h) * sy);
    if (x1 > x0)
        x1--;
    if (y1 > y0)
        y1--;
    line(d, v->width, v->height, x0, y0, x1, y0, c);
    line(d, v->width, v->height, x1, y0, x1, y1, c);
    line(d, v->width, v->height, x1, y1, x0, y1, c);
    line(d, v->width, v->height, x0, y1, x0, y0, c);
}

static void draw_frame(CwDebugDump *d, const CwMotionView *v, const CwMotionResult *res,
                       const CwEvent *ev)
{
    for (int y = 0; y < v->height; y++) {
        const uint8_t *g = v->frame + (size_t)y * v->linesize;
        const uint8_t *hidden = v->mask ? v->mask + (size_t)y * v->linesize : NULL;
        uint8_t *o = d->rgb + (size_t)y * v->width * 3;
        for (int x = 0; x < v->width; x++, o += 3) {
            o[0] = o[1] = o[2] = g[x];
            if (hidden && hidden[x]) { /* masked: half grey, half blue */
                o[0] = o[1] = (uint8_t)(g[x] / 2);
                o[2] = (uint8_t)(g[x] / 2 + 128);
            }
        }
    }
    for (int z = 0; d->zones && z < d->zones->count; z++) {
        const CwPolygon *p = &d->zones->polygons[z];
        for (int i = 0; i < p->count; i++) {
            const CwPoint *a = &p->points[i], *b = &p->points[(i + 1) % p->count];
            line(d, v->width, v->height, (int)(a->x * (v->width - 1)),
                 (int)(a->y * (v->height - 1)), (int)(b->x * (v->width - 1)),
                 (int)(b->y * (v->height - 1)), kGreen);
        }
    }
    if (ev->width <= 0 || ev->height <= 0)
        return;
    for (int i = 0; i < res->box_count; i++)
        outline(d, v, ev, &res->boxes[i], kYellow);
    for (int i = 0; i < ev->box_count; i++)
        outline(d, v, ev, &ev->boxes[i], kRed);
}

int cw_debug_dump_frame(CwDebugDump *d, const CwMotionView *v, const CwMotionResult *res,
                        const CwEvent *ev, int64_t lag_ns)
{
    char path[PATH_MAX + 32], stamp[64];
    int ret;

    d->frames++;
    size_t need = (size_t)v->width * v->height * 3;
    if (need > d->rgb_size) {
        uint8_t *grown = realloc(d->rgb, need);
        if (!grown)
            return -ENOMEM;
        d->rgb = grown;
        d->rgb_size = need;
    }
    draw_frame(d, v, res, ev);
    snprintf(path, sizeof(path), "%s/%06llu-frame.ppm", d->dir, (unsigned long long)d->frames);
    ret = write_picture(path, "P6", v->width, v->height, d->rgb, (size_t)v->width * 3,
                        (size_t)v->width * 3);
    if (ret == 0) {
        snprintf(path, sizeof(path), "%s/%06llu-diff.pgm", d->dir, (unsigned long long)d->frames);
        ret = write_picture(path, "P5", v->width, v->height, v->difference, (size_t)v->linesize,
                            (size_t)v->width);
    }
    if (ret == 0) {
        snprintf(path, sizeof(path), "%s/%06llu-mask.pgm", d->dir, (unsigned long long)d->frames);
        ret = write_picture(path, "P5", v->width, v->height, v->changed, (size_t)v->linesize,
                            (size_t)v->width);
    }
    if (ret < 0)
        return ret;

    fprintf(d->csv, "%s,%llu,%.1f,%.3f,%.4f,%.2f,%.2f,%.3f,%d,%d,%d,%d,%d,%u,",
            cw_time_format(ev->wall_ns, CW_TIME_ISO_UTC, stamp, sizeof(stamp)),
            (unsigned long long)d->frames, (double)lag_ns / 1e6, res->changed_percent,
            res->light_gain, res->light_offset, res->light_percent, res->noise_sigma,
            res->threshold_used, res->light_change, res->warming_up, res->box_count, ev->motion,
            ev->zones);
    /* Boxes as "x y w h" in the frame's pixels, ';' between them: a CSV
     * field without quotes. */
    for (int i = 0; i < ev->box_count; i++)
        fprintf(d->csv, "%s%u %u %u %u", i ? ";" : "", ev->boxes[i].x, ev->boxes[i].y,
                ev->boxes[i].w, ev->boxes[i].h);
    fputc('\n', d->csv);
    if (fflush(d->csv) != 0)
        return errno ? -errno : -EIO;
    return 0;
}
