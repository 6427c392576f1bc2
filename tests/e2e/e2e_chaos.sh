#!/usr/bin/env bash
# The chaos test's CI form (tests/chaos/chaos.sh): 150 s of faults at random
# moments. One seed by default, so that a clean checkout meets the same
# faults every time (CHAOS_SEED=N for others); `make soak` runs an hour
# with a fresh seed, which its log prints.
CW_TEST_NAME=e2e_chaos CHAOS_SEED=${CHAOS_SEED:-4242} exec "$(dirname "$0")/../chaos/chaos.sh" "${CHAOS_SECONDS:-150}"
