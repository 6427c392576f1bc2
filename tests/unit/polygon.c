/*
 * MOTION_MASK and MOTION_ZONES polygons (common/polygon.h): what parses, the
 * message for each kind of mistake (which polygon, which point, what was
 * found, what is accepted), and which boxes touch which zones.
 */
#include "check.h"

#include "polygon.h"

#include <errno.h>
#include <math.h>

static CwPolygonSet set;
static char err[512];

static void parses(const char *text, bool named, int polygons)
{
    err[0] = '\0';
    int ret = cw_polygons_parse("MOTION_MASK", text, named, &set, err, sizeof(err));
    if (ret != 0)
        fprintf(stderr, "\"%s\": %s\n", text, err);
    CHECK_EQ_U64(ret, 0);
    CHECK_EQ_U64(set.count, polygons);
}

/* A mistake: -EINVAL, one line, naming the variable and every `needles`. */
static void fails(const char *var, const char *text, bool named, const char *needle1,
                  const char *needle2)
{
    err[0] = '\0';
    CHECK(cw_polygons_parse(var, text, named, &set, err, sizeof(err)) == -EINVAL);
    printf("%-44s -> %s\n", text, err);
    CHECK_STR_CONTAINS(err, var);
    CHECK_STR_CONTAINS(err, needle1);
    if (needle2)
        CHECK_STR_CONTAINS(err, needle2);
    CHECK(strchr(err, '\n') == NULL);
}

static void test_parse(void)
{
    parses(NULL, false, 0);
    parses("", false, 0);
    parses("   ", false, 0);
    parses("0,0 1,0 1,1", false, 1);
    CHECK_EQ_U64(set.polygons[0].count, 3);
    CHECK(set.polygons[0].points[1].x == 1 && set.polygons[0].points[1].y == 0);
    CHECK(set.polygons[0].name[0] == '\0');
    parses(" 0,0  0.5,0\t0.5,0.5 ;0.5,0.5 1,0.5 1,1 0.5,1;", false, 2); /* a trailing ';' */
    CHECK_EQ_U64(set.polygons[1].count, 4);
    CHECK(fabs(set.polygons[1].points[3].x - 0.5) < 1e-12);
    parses("door:0.1,0.1 0.3,0.1 0.3,0.9; drive-way_2 : 0.5,0.5 1,0.5 1,1", true, 2);
    CHECK(strcmp(set.polygons[0].name, "door") == 0);
    CHECK(strcmp(set.polygons[1].name, "drive-way_2") == 0);
    CHECK_EQ_U64(set.polygons[1].count, 3);

    /* The most points and polygons accepted. */
    char text[4096] = "";
    for (int i = 0; i < CW_POLYGON_MAX_POINTS; i++) {
        double a = 2 * M_PI * i / CW_POLYGON_MAX_POINTS;
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%.3f,%.3f ", 0.5 + 0.4 * cos(a),
                 0.5 + 0.4 * sin(a));
    }
    parses(text, false, 1);
    CHECK_EQ_U64(set.polygons[0].count, CW_POLYGON_MAX_POINTS);
    text[0] = '\0';
    for (int i = 0; i < CW_POLYGONS_MAX; i++)
        strcat(text, "0,0 0.1,0 0,0.1;");
    parses(text, false, CW_POLYGONS_MAX);
}

static void test_mistakes(void)
{
    fails("MOTION_MASK", "0,0 1,0 1,1; 0,0 0.5,0.2 1.5,0.2", false,
          "polygon 2, point 3 (\"1.5,0.2\")", "x 1.5 is outside 0..1");
    fails("MOTION_MASK", "0,0 1,0 0,-0.1", false, "polygon 1, point 3", "y -0.1 is outside 0..1");
    fails("MOTION_MASK", "0,0 1,0 1;1", false, "polygon 1, point 3 (\"1\") is not x,y",
          "write each point as x,y");
    fails("MOTION_MASK", "0,0 1,0 1,1 0.5.5,1", false, "point 4 (\"0.5.5,1\") is not x,y", NULL);
    fails("MOTION_MASK", "0,0 1,0 a,1", false, "point 3 (\"a,1\") is not x,y", NULL);
    fails("MOTION_MASK", "0,0 1,0 nan,1", false, "point 3", "is not x,y");
    fails("MOTION_MASK", "0,0 1,0 1,1,1", false, "point 3 (\"1,1,1\") is not x,y", NULL);
    fails("MOTION_MASK", "0,0 1,0", false, "polygon 1 has 2 points", "at least 3");
    fails("MOTION_MASK", "0,0 0.5,0.5 1,1", false, "polygon 1 encloses no area", "one line");
    fails("MOTION_MASK", "0,0 1,0 1,1;;0,0 1,0 1,1", false, "polygon 2 is empty", NULL);
    fails("MOTION_MASK", ";", false, "polygon 1 is empty", NULL);

    char text[4096] = "";
    for (int i = 0; i <= CW_POLYGON_MAX_POINTS; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "0.%02d,0.%02d ", i,
                 (i * i) % 100);
    fails("MOTION_MASK", text, false, "polygon 1 has more than 32 points", NULL);
    text[0] = '\0';
    for (int i = 0; i <= CW_POLYGONS_MAX; i++)
        strcat(text, "0,0 0.1,0 0,0.1;");
    fails("MOTION_MASK", text, false, "more than 32 polygons", NULL);

    fails("MOTION_ZONES", "0,0 1,0 1,1", true, "polygon 1 has no name", "name:x,y");
    fails("MOTION_ZONES", "door:0,0 1,0 1,1; front door:0,0 1,0 1,1", true,
          "polygon 2 is named \"front door\"", "letters, digits");
    fails("MOTION_ZONES", ":0,0 1,0 1,1", true, "polygon 1 is named \"\"", NULL);
    fails("MOTION_ZONES", "door:0,0 1,0 1,1; door:0,0 1,0 0,1", true,
          "polygon 2 is named \"door\" like polygon 1", NULL);
    fails("MOTION_ZONES", "door:0,0 1,0 1,1; drive:0,0 1,0 2,1", true,
          "polygon 2 (\"drive\"), point 3 (\"2,1\")", "x 2 is outside 0..1");
}

static void test_touches(void)
{
    parses("tri:0.2,0.2 0.6,0.2 0.2,0.6", true, 1);
    const CwPolygon *p = &set.polygons[0];
    CHECK(cw_polygon_touches_rect(p, 0.25, 0.25, 0.3, 0.3));  /* inside the triangle */
    CHECK(cw_polygon_touches_rect(p, 0, 0, 1, 1));            /* around all of it */
    CHECK(cw_polygon_touches_rect(p, 0.5, 0.1, 0.7, 0.3));    /* over a vertex */
    CHECK(cw_polygon_touches_rect(p, 0.35, 0.1, 0.45, 0.25)); /* across an edge */
    CHECK(cw_polygon_touches_rect(p, 0.3, 0.3, 0.41, 0.41));  /* over the hypotenuse */
    CHECK(!cw_polygon_touches_rect(p, 0.45, 0.45, 0.6, 0.6)); /* beyond the hypotenuse */
    CHECK(!cw_polygon_touches_rect(p, 0.7, 0.7, 0.9, 0.9));   /* far */
    CHECK(!cw_polygon_touches_rect(p, 0.0, 0.0, 0.1, 0.1));   /* before it */
    CHECK(cw_polygon_touches_rect(p, 0.6, 0.2, 0.7, 0.3));    /* touching a vertex */
}

static void test_zones(void)
{
    parses("left:0,0 0.5,0 0.5,1 0,1; right:0.5,0 1,0 1,1 0.5,1; top:0,0 1,0 1,0.1 0,0.1", true, 3);
    const CwBox left = {10, 300, 50, 100}, right = {700, 300, 50, 100}, middle = {600, 300, 80, 60};
    char names[128];
    CHECK_EQ_U64(cw_zones_touched(&set, &left, 1, 1280, 720), 1u);
    CHECK_EQ_U64(cw_zones_touched(&set, &right, 1, 1280, 720), 2u);
    CHECK_EQ_U64(cw_zones_touched(&set, &middle, 1, 1280, 720), 3u);
    CwBox both[2] = {left, {100, 10, 20, 20}};
    uint32_t bits = cw_zones_touched(&set, both, 2, 1280, 720);
    CHECK_EQ_U64(bits, 5u);
    CHECK(strcmp(cw_zones_names(&set, bits, names, sizeof(names)), "left, top") == 0);
    CHECK(strcmp(cw_zones_names(&set, 0, names, sizeof(names)), "") == 0);
    CHECK(strcmp(cw_zones_names(&set, 7, names, 8), "left") == 0); /* truncated */
    CHECK_EQ_U64(cw_zones_touched(&set, &left, 0, 1280, 720), 0);
    CHECK_EQ_U64(cw_zones_touched(&set, &left, 1, 0, 720), 0);
    CHECK_EQ_U64(cw_zones_touched(NULL, &left, 1, 1280, 720), 0);
    printf("zones: %s\n", cw_zones_names(&set, bits, names, sizeof(names)));
}

int main(void)
{
    RUN(test_parse);
    RUN(test_mistakes);
    RUN(test_touches);
    RUN(test_zones);
    return 0;
}
