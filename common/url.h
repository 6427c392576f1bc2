/*
 * Credentials in camera URLs: where a URL carries a password, the registry
 * of passwords that must never be printed, and the mask that hides both in
 * a line of text. cw_log() puts every line through cw_url_mask_credentials(),
 * and the configuration's error messages too, so a password reaches neither
 * a log nor an error.
 *
 * Errors: negative errno values, as everywhere in common/ (only -ENOMEM can
 * happen here).
 *
 * The registry is filled while the configuration is loaded, before any
 * thread starts, and only read after that: reading takes no lock.
 */
#ifndef CAMWATCH_URL_H
#define CAMWATCH_URL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The password of "scheme://user:password@host…" in `url`, which ends at
 * `url_end`: the user information runs to the LAST '@' of the URL, so a
 * password with an unencoded '/', '?', '#' or '@' is found whole. Returns
 * true and sets *start and *len (pointing into `url`), false if the URL
 * carries no password (no "://" before `url_end`, no '@' after it, or no
 * ':' in the user information).
 */
bool cw_url_password(const char *url, const char *url_end, const char **start, size_t *len);

/*
 * Never print `secret`: it is replaced by "***" wherever it appears, and so
 * is its percent-decoded form (URLs carry passwords encoded; libraries may
 * print either). A secret shorter than 4 characters is not registered: it is
 * masked only where it stands in a URL, since hiding every "p" of every line
 * would make logs unreadable and point at the password anyway. Registering a
 * secret twice is harmless. The registry copies `secret`. Returns 0 or
 * -ENOMEM.
 */
int cw_url_add_secret(const char *secret);

/*
 * Register every password `url` carries: its user information's, and the
 * value of a password=, passwd=, pwd= or pass= query parameter (some cameras
 * take their credentials so). Call before anything can print the URL.
 * Returns 0 or -ENOMEM.
 */
int cw_url_register_secrets(const char *url);

/* Forget every registered secret (for tests: a process keeps its own). */
void cw_url_clear_secrets(void);

/*
 * Copy `in` to `out` with credentials masked: the password of any
 * "scheme://user:password@host" becomes "***" (a URL in a line ends at white
 * space or a quote), and every registered secret too. Always NUL-terminates
 * (a short `out` holds a truncated copy); returns the length written.
 */
size_t cw_url_mask_credentials(const char *in, char *out, size_t out_size);

#endif /* CAMWATCH_URL_H */
