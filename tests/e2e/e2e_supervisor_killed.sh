#!/usr/bin/env bash
# A supervisor killed with SIGKILL leaves no stage behind: each stage gets
# SIGTERM from the kernel when its parent dies and stops as it would on
# request. A new camwatch then starts cleanly on the same camera.
source "$(dirname "$0")/lib.sh"

port=$(test_port 18960)
start_fakecam "$port" --pattern
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch
wait_for 30 "capture to connect" grep -q 'connected to' "$WORK/camwatch.log"
pids="$(stage_pid capture) $(stage_pid detect) $(stage_pid record)"
[ "$(echo $pids | wc -w)" = 3 ] || fail "not all three stages run: $pids"
log "killing the supervisor ($CAMWATCH_PID) with SIGKILL; stages $pids"
kill -KILL "$CAMWATCH_PID"
wait "$CAMWATCH_PID" 2>/dev/null || true
stages_gone() {
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && return 1; done
    return 0
}
wait_for 15 "the orphaned stages to stop" stages_gone
log "all stages stopped after the supervisor died"

start_camwatch
connected_twice() { [ "$(grep -c 'connected to' "$WORK/camwatch.log")" -ge 2 ]; }
wait_for 30 "the new camwatch to connect" connected_twice
kill -TERM "$CAMWATCH_PID"
rc=0
wait "$CAMWATCH_PID" || rc=$?
[ $rc = 0 ] || fail "the new camwatch exited with $rc"
log ok
