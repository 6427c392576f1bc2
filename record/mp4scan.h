/*
 * Top-level box scan of a fragmented MP4 (ftyp, moov, then moof+mdat
 * pairs): how much of a file a crash or a full disk left playable.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_RECORD_MP4SCAN_H
#define CAMWATCH_RECORD_MP4SCAN_H

#include <stdint.h>

typedef struct RecMp4Scan {
    int64_t file_size;
    int64_t header_end;   /* end of the moov box; 0 if there is no complete moov */
    int64_t playable_end; /* end of the last complete moof+mdat pair (or of mfra) */
    int fragments;        /* complete moof+mdat pairs */
} RecMp4Scan;

/*
 * Scan `path`. Returns 0 and fills *scan (a file with no complete moov has
 * header_end 0 and no fragments), or a negative errno if it cannot be read.
 */
int rec_mp4_scan(const char *path, RecMp4Scan *scan);

#endif /* CAMWATCH_RECORD_MP4SCAN_H */
