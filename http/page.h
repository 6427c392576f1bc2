/*
 * The one page camwatch-http serves at "/": the live view, the camera's
 * state and today's clips as snapshot thumbnails that play in the page.
 * Plain HTML and script, no build step, no framework; everything it shows
 * comes from the other routes (/live.mjpeg, /api/status, /api/clips, /clips/).
 */
#ifndef CAMWATCH_HTTP_PAGE_H
#define CAMWATCH_HTTP_PAGE_H

#include <stddef.h>

/* The page (static, NUL-terminated) and its length. */
const char *http_page_html(size_t *len);

#endif /* CAMWATCH_HTTP_PAGE_H */
