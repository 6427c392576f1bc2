/*
 * Prometheus text exposition (version 0.0.4) of one status document
 * (status.h): the same figures /api/status and `camwatch status` show.
 *
 * Errors: none beyond memory (NULL).
 */
#ifndef CAMWATCH_HTTP_METRICS_H
#define CAMWATCH_HTTP_METRICS_H

#include <cjson/cJSON.h>

/*
 * The metrics of `status` as text, each family with its HELP and TYPE
 * lines, every sample labelled with the camera. Returns a string the
 * caller frees (free()), or NULL when out of memory.
 */
char *http_metrics_text(const cJSON *status);

#endif /* CAMWATCH_HTTP_METRICS_H */
