/*
 * Polygons for MOTION_MASK and MOTION_ZONES: see polygon.h.
 */
#include "polygon.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOW_TO_WRITE                                                                               \
    "write each point as x,y with x and y from 0 to 1 (fractions of the picture's width and "      \
    "height from its top left corner), points separated by spaces, polygons by ';'"

static void fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    return s;
}

/* One coordinate: a plain decimal number (no nan, inf or hex). */
static bool parse_coordinate(const char *s, const char *end, double *v)
{
    char buf[64];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)buf[i]) && buf[i] != '.' && buf[i] != '-' && buf[i] != '+' &&
            buf[i] != 'e' && buf[i] != 'E')
            return false;
    }
    char *stop;
    *v = strtod(buf, &stop);
    return *stop == '\0' && isfinite(*v);
}

/* Twice the signed area (shoelace). */
static double doubled_area(const CwPolygon *p)
{
    double a = 0;
    for (int i = 0; i < p->count; i++) {
        const CwPoint *u = &p->points[i], *v = &p->points[(i + 1) % p->count];
        a += u->x * v->y - v->x * u->y;
    }
    return a;
}

/* The points of polygon `index` (from 1), between s and end, into *poly. */
static int parse_points(const char *var, int index, const char *s, const char *end, CwPolygon *poly,
                        char *err, size_t err_size)
{
    const char *where = poly->name[0] ? poly->name : NULL;
    char label[64];
    if (where)
        snprintf(label, sizeof(label), "polygon %d (\"%s\")", index, where);
    else
        snprintf(label, sizeof(label), "polygon %d", index);

    poly->count = 0;
    for (s = skip_space(s, end); s < end; s = skip_space(s, end)) {
        const char *tok = s;
        while (s < end && !isspace((unsigned char)*s))
            s++;
        int len = (int)(s - tok);
        int point = poly->count + 1;
        if (poly->count == CW_POLYGON_MAX_POINTS) {
            fail(err, err_size, "%s: %s has more than %d points; use at most %d", var, label,
                 CW_POLYGON_MAX_POINTS, CW_POLYGON_MAX_POINTS);
            return -EINVAL;
        }
        const char *comma = memchr(tok, ',', (size_t)len);
        double x, y;
        if (!comma || !parse_coordinate(tok, comma, &x) || !parse_coordinate(comma + 1, s, &y)) {
            fail(err, err_size, "%s: %s, point %d (\"%.*s\") is not x,y; %s", var, label, point,
                 len, tok, HOW_TO_WRITE);
            return -EINVAL;
        }
        if (x < 0 || x > 1 || y < 0 || y > 1) {
            fail(err, err_size, "%s: %s, point %d (\"%.*s\"): %s %g is outside 0..1; %s", var,
                 label, point, len, tok, x < 0 || x > 1 ? "x" : "y", x < 0 || x > 1 ? x : y,
                 HOW_TO_WRITE);
            return -EINVAL;
        }
        poly->points[poly->count].x = x;
        poly->points[poly->count].y = y;
        poly->count++;
    }
    if (poly->count < 3) {
        fail(err, err_size, "%s: %s has %d point%s; a polygon needs at least 3 (%s)", var, label,
             poly->count, poly->count == 1 ? "" : "s", HOW_TO_WRITE);
        return -EINVAL;
    }
    if (fabs(doubled_area(poly)) < 1e-9) {
        fail(err, err_size, "%s: %s encloses no area: its %d points lie on one line", var, label,
             poly->count);
        return -EINVAL;
    }
    return 0;
}

/* "name:" at the start of a zone: fills poly->name, returns where the points start. */
static const char *parse_name(const char *var, int index, const char *s, const char *end,
                              const CwPolygonSet *out, CwPolygon *poly, char *err, size_t err_size)
{
    const char *colon = memchr(s, ':', (size_t)(end - s));
    if (!colon) {
        fail(err, err_size,
             "%s: polygon %d has no name; write each zone as name:x,y x,y x,y, zones separated by "
             "';'",
             var, index);
        return NULL;
    }
    const char *n0 = skip_space(s, colon), *n1 = colon;
    while (n1 > n0 && isspace((unsigned char)n1[-1]))
        n1--;
    size_t len = (size_t)(n1 - n0);
    bool ok = len > 0 && len <= CW_ZONE_NAME_MAX;
    for (const char *c = n0; c < n1 && ok; c++)
        ok = isalnum((unsigned char)*c) || *c == '-' || *c == '_';
    if (!ok) {
        fail(err, err_size,
             "%s: polygon %d is named \"%.*s\"; a zone name is 1 to %d letters, digits, '-' or '_'",
             var, index, (int)len, n0, CW_ZONE_NAME_MAX);
        return NULL;
    }
    memcpy(poly->name, n0, len);
    poly->name[len] = '\0';
    for (int i = 0; i < out->count; i++) {
        if (strcmp(out->polygons[i].name, poly->name) == 0) {
            fail(err, err_size, "%s: polygon %d is named \"%s\" like polygon %d; names must differ",
                 var, index, poly->name, i + 1);
            return NULL;
        }
    }
    return colon + 1;
}

int cw_polygons_parse(const char *var, const char *text, bool named, CwPolygonSet *out, char *err,
                      size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return 0;
    const char *s = text, *text_end = text + strlen(text);
    for (int index = 1; s < text_end; index++) {
        const char *semi = memchr(s, ';', (size_t)(text_end - s));
        const char *end = semi ? semi : text_end;
        if (skip_space(s, end) == end) {
            /* Nothing at all, or a trailing ';': fine. Between two ';', a mistake. */
            if (!semi || skip_space(semi + 1, text_end) == text_end) {
                if (index == 1 && semi) {
                    fail(err, err_size, "%s: polygon 1 is empty; %s", var, HOW_TO_WRITE);
                    return -EINVAL;
                }
                break;
            }
            fail(err, err_size, "%s: polygon %d is empty (two ';' in a row); %s", var, index,
                 HOW_TO_WRITE);
            return -EINVAL;
        }
        if (out->count == CW_POLYGONS_MAX) {
            fail(err, err_size, "%s has more than %d polygons; use at most %d", var,
                 CW_POLYGONS_MAX, CW_POLYGONS_MAX);
            return -EINVAL;
        }
        CwPolygon *poly = &out->polygons[out->count];
        memset(poly, 0, sizeof(*poly));
        if (named) {
            s = parse_name(var, index, s, end, out, poly, err, err_size);
            if (!s)
                return -EINVAL;
        }
        int ret = parse_points(var, index, s, end, poly, err, err_size);
        if (ret < 0)
            return ret;
        out->count++;
        s = semi ? semi + 1 : text_end;
    }
    return 0;
}

/* Even-odd rule; points on the boundary may go either way (edges are tested apart). */
static bool inside(const CwPolygon *p, double x, double y)
{
    bool in = false;
    for (int i = 0, j = p->count - 1; i < p->count; j = i++) {
        const CwPoint *a = &p->points[i], *b = &p->points[j];
        if ((a->y > y) != (b->y > y) && x < (b->x - a->x) * (y - a->y) / (b->y - a->y) + a->x)
            in = !in;
    }
    return in;
}

static double cross(double ax, double ay, double bx, double by, double cx, double cy)
{
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/* Segments pq and rs share a point (touching counts). */
static bool segments_meet(CwPoint p, CwPoint q, CwPoint r, CwPoint s)
{
    double d1 = cross(r.x, r.y, s.x, s.y, p.x, p.y), d2 = cross(r.x, r.y, s.x, s.y, q.x, q.y);
    double d3 = cross(p.x, p.y, q.x, q.y, r.x, r.y), d4 = cross(p.x, p.y, q.x, q.y, s.x, s.y);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        return true;
    /* Collinear or touching: an end point on the other segment. */
    double lo_x = fmin(r.x, s.x), hi_x = fmax(r.x, s.x), lo_y = fmin(r.y, s.y),
           hi_y = fmax(r.y, s.y);
    if (d1 == 0 && p.x >= lo_x && p.x <= hi_x && p.y >= lo_y && p.y <= hi_y)
        return true;
    if (d2 == 0 && q.x >= lo_x && q.x <= hi_x && q.y >= lo_y && q.y <= hi_y)
        return true;
    lo_x = fmin(p.x, q.x), hi_x = fmax(p.x, q.x), lo_y = fmin(p.y, q.y), hi_y = fmax(p.y, q.y);
    if (d3 == 0 && r.x >= lo_x && r.x <= hi_x && r.y >= lo_y && r.y <= hi_y)
        return true;
    return d4 == 0 && s.x >= lo_x && s.x <= hi_x && s.y >= lo_y && s.y <= hi_y;
}

bool cw_polygon_touches_rect(const CwPolygon *p, double x0, double y0, double x1, double y1)
{
    if (p->count < 3)
        return false;
    for (int i = 0; i < p->count; i++) {
        const CwPoint *v = &p->points[i];
        if (v->x >= x0 && v->x <= x1 && v->y >= y0 && v->y <= y1)
            return true;
    }
    if (inside(p, x0, y0) || inside(p, x1, y0) || inside(p, x0, y1) || inside(p, x1, y1))
        return true;
    const CwPoint c[4] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
    for (int i = 0; i < p->count; i++) {
        CwPoint a = p->points[i], b = p->points[(i + 1) % p->count];
        for (int k = 0; k < 4; k++) {
            if (segments_meet(a, b, c[k], c[(k + 1) % 4]))
                return true;
        }
    }
    return false;
}

uint32_t cw_zones_touched(const CwPolygonSet *zones, const CwBox *boxes, int count, int width,
                          int height)
{
    uint32_t bits = 0;
    if (!zones || width <= 0 || height <= 0)
        return 0;
    for (int b = 0; b < count; b++) {
        double x0 = (double)boxes[b].x / width, y0 = (double)boxes[b].y / height;
        double x1 = (double)(boxes[b].x + boxes[b].w) / width;
        double y1 = (double)(boxes[b].y + boxes[b].h) / height;
        for (int z = 0; z < zones->count && z < CW_POLYGONS_MAX; z++) {
            if (!(bits & (1u << z)) && cw_polygon_touches_rect(&zones->polygons[z], x0, y0, x1, y1))
                bits |= 1u << z;
        }
    }
    return bits;
}

char *cw_zones_names(const CwPolygonSet *zones, uint32_t bits, char *buf, size_t size)
{
    size_t used = 0;
    if (!size)
        return buf;
    buf[0] = '\0';
    for (int z = 0; zones && z < zones->count && z < CW_POLYGONS_MAX; z++) {
        if (!(bits & (1u << z)))
            continue;
        const char *sep = used ? ", " : "";
        size_t n = strlen(sep) + strlen(zones->polygons[z].name);
        if (n >= size - used)
            break; /* only whole names */
        snprintf(buf + used, size - used, "%s%s", sep, zones->polygons[z].name);
        used += n;
    }
    return buf;
}
