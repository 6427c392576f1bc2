/* Exit codes shared by every camwatch process (sysexits). */
#ifndef CAMWATCH_EXITCODE_H
#define CAMWATCH_EXITCODE_H

#define CW_EXIT_OK       0  /* stopped on request, or the source ended */
#define CW_EXIT_SOFTWARE 70 /* internal error */
#define CW_EXIT_TEMPFAIL 75 /* temporary: camera unreachable or lost; restart later */
#define CW_EXIT_CONFIG   78 /* configuration error: do not restart */

#endif /* CAMWATCH_EXITCODE_H */
