#!/usr/bin/env bash
# The chaos test's CI form (tests/chaos/chaos.sh): 150 s of faults at random
# moments from a seed the log prints; `make soak` runs it for an hour.
# CHAOS_SEED=N replays a run's faults.
exec "$(dirname "$0")/../chaos/chaos.sh" "${CHAOS_SECONDS:-150}"
