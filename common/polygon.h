/*
 * Polygons in frame-relative coordinates, for MOTION_MASK (where motion is
 * ignored) and MOTION_ZONES (named areas an event reports touching).
 *
 * A point is x,y with 0 <= x, y <= 1: fractions of the picture's width and
 * height, (0,0) the top left corner. Relative coordinates survive a camera
 * that changes its resolution, and the analysed picture is smaller than the
 * frame anyway. The text forms are
 *
 *   MOTION_MASK   "x,y x,y x,y; x,y x,y x,y x,y"        polygons separated by ';'
 *   MOTION_ZONES  "door:x,y x,y x,y; drive:x,y x,y x,y"  each polygon named
 *
 * Pure: no I/O, no allocation; the configuration loader (config.c) checks
 * both variables, so every program refuses a bad polygon; detect/main.c
 * parses them for its use, detect/motion.cpp
 * rasterises a mask (with OpenCV; it only reads these types), and zones are
 * matched against boxes here.
 */
#ifndef CAMWATCH_POLYGON_H
#define CAMWATCH_POLYGON_H

#include "payload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CW_POLYGON_MAX_POINTS 32
#define CW_POLYGONS_MAX       32 /* also the width of a zone bitmask */
#define CW_ZONE_NAME_MAX      31

typedef struct CwPoint {
    double x, y; /* 0..1 of the picture's width and height */
} CwPoint;

typedef struct CwPolygon {
    char name[CW_ZONE_NAME_MAX + 1]; /* zones only; "" in a mask */
    int count;                       /* 3..CW_POLYGON_MAX_POINTS */
    CwPoint points[CW_POLYGON_MAX_POINTS];
} CwPolygon;

typedef struct CwPolygonSet {
    int count; /* 0..CW_POLYGONS_MAX */
    CwPolygon polygons[CW_POLYGONS_MAX];
} CwPolygonSet;

/*
 * Parse `text` (the variable `var`'s value, named in messages) into *out.
 * With `named`, each polygon starts with "name:" (1 to CW_ZONE_NAME_MAX
 * letters, digits, '-' or '_', each name once). Empty text (or only spaces)
 * gives no polygon. Returns 0, or -EINVAL with one line in err naming the
 * polygon and the point that is wrong (counted from 1), what was found and
 * what is accepted.
 */
int cw_polygons_parse(const char *var, const char *text, bool named, CwPolygonSet *out, char *err,
                      size_t err_size);

/*
 * True if polygon `p` and the rectangle [x0, x1] x [y0, y1] (relative
 * coordinates, x0 <= x1, y0 <= y1) share any point: a vertex of one inside
 * the other, or crossing edges.
 */
bool cw_polygon_touches_rect(const CwPolygon *p, double x0, double y0, double x1, double y1);

/*
 * Bit i set for each zone zones->polygons[i] that one of the `count` boxes
 * touches; boxes are in the pixels of a `width` x `height` frame. Returns 0
 * for no zone, no box or a frame of no size.
 */
uint32_t cw_zones_touched(const CwPolygonSet *zones, const CwBox *boxes, int count, int width,
                          int height);

/*
 * Write the names of the zones in `bits` into buf, separated by ", "
 * ("" for none). Returns buf; a small buf holds the names that fit whole.
 */
char *cw_zones_names(const CwPolygonSet *zones, uint32_t bits, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* CAMWATCH_POLYGON_H */
