#include "rings.h"

#include "exitcode.h"
#include "log.h"
#include "payload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[CW_RING_KIND_COUNT] = {"packets", "frames", "events"};

void cw_rings_name(const CwConfig *cfg, enum CwRingKind kind, char *buf, size_t size)
{
    snprintf(buf, size, "/camwatch.%s.%s", cfg->camera, kind_names[kind]);
}

void cw_rings_geometry(const CwConfig *cfg, enum CwRingKind kind, CwRingGeometry *geo)
{
    switch (kind) {
    case CW_RING_PACKETS:
        /* Descriptors for the pre-roll plus a wide margin at up to 60
         * packets a second; the bytes are bounded by PACKET_BUFFER_MB. */
        geo->slot_count = (uint32_t)((cfg->pre_capture_s + 30) * 60);
        geo->arena_size = (uint64_t)cfg->packet_buffer_mb << 20;
        break;
    case CW_RING_FRAMES:
        geo->slot_count = 16;
        geo->arena_size = (uint64_t)cfg->frame_buffer_mb << 20;
        break;
    default:
        /* A minute of events at the highest detection rate. */
        geo->slot_count = 4096;
        geo->arena_size = 4096 * 256; /* an event fits in 256 bytes */
        break;
    }
}

int cw_rings_open(const CwConfig *cfg, enum CwRingKind kind, CwRing **ring)
{
    char name[64], err[512];
    CwRingGeometry geo;
    cw_rings_name(cfg, kind, name, sizeof(name));
    cw_rings_geometry(cfg, kind, &geo);
    int ret = cw_ring_open(ring, name, &geo, 5000, err, sizeof(err));
    if (ret < 0)
        cw_error("%s", err);
    return ret;
}

int cw_rings_exit_code(int err)
{
    switch (err) {
    case -EPROTO:
    case -ETIMEDOUT:
    case -EACCES:
    case -EPERM:
        return CW_EXIT_CONFIG; /* restarting cannot help */
    default:
        return CW_EXIT_TEMPFAIL;
    }
}
