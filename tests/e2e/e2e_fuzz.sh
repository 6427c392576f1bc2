#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz, each for FUZZ_SECONDS (default 10;
# `make fuzz` runs them for longer): every committed seed and regression
# input runs first, then fuzzing; a crash, leak, hang, sanitizer report or
# violated property fails the test. Prints each target's executions and
# coverage. The targets are built with clang (`make fuzz-build`, which
# `make test` runs; built here if missing).
source "$(dirname "$0")/lib.sh"

fuzz_build=${FUZZ_BUILD:-${BUILD}-fuzz}
command -v clang >/dev/null || fail "no clang: scripts/install-deps --test installs it"
make -C "$TOP" -s fuzz-build FUZZ_BUILD="$fuzz_build" >"$WORK/build.log" 2>&1 ||
    fail "make fuzz-build: $(tail -n 20 "$WORK/build.log")"
# One seed, so that a clean checkout fuzzes alike every time; `make fuzz`
# (no seed) explores further.
FUZZ_BUILD=$fuzz_build FUZZ_SECONDS=${FUZZ_SECONDS:-10} FUZZ_SEED=${FUZZ_SEED:-20261201} \
    "$TOP/tests/fuzz/run" | tee "$WORK/fuzz.out"
[ "${PIPESTATUS[0]}" = 0 ] || fail "a fuzz target found something (above)"
# Every target ran and executed inputs: a target that silently did nothing
# would pass the run.
targets=$(ls "$TOP"/tests/fuzz/*.c | wc -l)
ran=$(awk '$NF == "ok" && $3 ~ /^[0-9]+$/ && $3 > 100' "$WORK/fuzz.out" | sort -u | wc -l)
[ "$ran" -ge "$targets" ] || fail "only $ran of $targets targets ran more than 100 inputs"
log ok
