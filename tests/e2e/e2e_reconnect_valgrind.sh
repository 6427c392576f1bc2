#!/usr/bin/env bash
# Fifty reconnect cycles under valgrind: no leak, no memory error, no growth.
#
# The real supervisor runs under memcheck, and runs its stages through
# wrappers (CAMWATCH_BIN_DIR): detect and record under memcheck for their
# whole lives, capture under memcheck every RECONNECT_VG_EVERY-th life
# (default 10: lives 1, 11, ... 51). A capture under memcheck takes some
# 7 s to start and connect, a plain one just over 1 s: memcheck on every
# life would make the test some 5 minutes longer. Every life runs the same
# path (connect, publish, lose the camera, exit 75), and the first (fresh
# rings) and the last of the cycles are among those checked.
# A cycle: capture connects and the supervisor sees its packets ("camera is
# back"), the test camera drops its mount (SIGUSR1: the client is
# disconnected at once) and restores it, capture exits 75, the supervisor
# restarts it after RETRY_SECONDS, and the new capture connects.
#
# The camera shows a still scene during the cycles (the background plate),
# so that no clip is being recorded when the processes are sampled; after
# the last cycle it is started again with the footage of people walking,
# and a clip must appear.
#
# Checked: each of the RECONNECT_CYCLES (50) capture lives that connected
# exited 75 and was followed by one restart that connected again; nothing
# else died; every process under memcheck (the supervisor, detect and record
# at their exit after SIGTERM, each sampled capture at its exit) reports no
# memory error and nothing definitely or indirectly lost; the supervisor's,
# detect's and record's descriptors (/proc/PID/fd) are the same after cycle
# 5 and after the last, and their anonymous memory grew by at most
# RECONNECT_MEM_SLACK_KIB (256) in between; a clip appears after the cycles.
# It takes some 150 s, mostly waiting (under half a core): tests/run runs
# it beside the others.
source "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || fail "valgrind missing: scripts/install-deps --test installs it"
! ldd "$BIN/camwatch" | grep -q libasan ||
    fail "$BIN is built with ASan, which memcheck cannot run: run this test against a plain build (tests/run's PLAIN_TESTS)"
cycles=${RECONNECT_CYCLES:-50}
vg_every=${RECONNECT_VG_EVERY:-10}
mem_slack_kib=${RECONNECT_MEM_SLACK_KIB:-256}
early=5 # the first sample is taken after this cycle: start-up is over
export WAIT_POLL_SECONDS=0.05 # lib.sh's wait_for: five waits a cycle, fifty cycles

prepare_media
# The plate alone, 10 s at 10 fps with a keyframe every second, as the
# camera's footage is: a scene where nothing moves.
still=$MEDIA/plate-still.mp4
(
    flock 9
    [ -s "$still" ] ||
        { ffmpeg -loglevel error -y -loop 1 -framerate 10 -t 10 -i "$MEDIA/plate.png" \
            -vf format=yuv420p -c:v libx264 -preset veryfast -g 10 -bf 0 "$still.tmp.mp4" &&
            mv "$still.tmp.mp4" "$still"; }
) 9>"$MEDIA/.prepare.lock"
[ -s "$still" ] || fail "could not make $still"

port=$(test_port 19930)
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
# The test's name and a tag (tests/run's beside lane adds to it) would be
# over CAMERA_NAME's 32 characters.
export CAMERA_NAME=e2e_rcvg${CW_TEST_TAG:+-$CW_TEST_TAG}
camwatch_env
# Valgrind runs the stages some twenty times slower: room for that. Each
# reconnect waits RETRY_SECONDS (the first steps of the ladder are capped
# by it): long enough that the camera is back before the new capture asks,
# even when this script is slow to restore it on a loaded machine (a
# capture turned away would make a cycle of two attempts).
export RETRY_SECONDS=0.6 TIMEOUT_SECONDS=10 DETECT_FPS=2 MAX_CLIP_SECONDS=10
unset HTTP_LISTEN MQTT_URL DETECT_URL

# --- the stages' wrappers -------------------------------------------------
# Each execs its program, so the supervisor's child is the stage itself (its
# pid, its signals, its exit status), with or without valgrind in front.
vg_opts=(--quiet --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no --vgdb=no)
# The long-lived processes: memcheck keeps freed blocks out of use until
# their volume reaches --freelist-vol (20 MB by default), and that queue
# filling up shows as growth (some 30 KiB a reconnect in detect, for
# hundreds of cycles). At 100 KB it is full before the first sample; a
# block freed in the last few reconnects is still caught if it is used.
vg_long=("${vg_opts[@]}" --freelist-vol=100000)
mkdir -p "$WORK/bin" "$WORK/vg"
for stage in detect record; do
    cat >"$WORK/bin/camwatch-$stage" <<EOF
#!/bin/sh
exec valgrind ${vg_long[*]} --log-file="$WORK/vg/$stage.%p" "$BIN/camwatch-$stage" "\$@"
EOF
done
# capture: life N (counted in a file; the supervisor starts one at a time)
# runs under memcheck when N is 1, 1 + RECONNECT_VG_EVERY, ...
cat >"$WORK/bin/camwatch-capture" <<EOF
#!/bin/sh
n=\$((\$(cat "$WORK/capture.lives" 2>/dev/null || echo 0) + 1))
echo \$n >"$WORK/capture.lives"
[ \$(((n - 1) % $vg_every)) = 0 ] &&
    exec valgrind ${vg_opts[*]} --log-file="$WORK/vg/capture.%p" "$BIN/camwatch-capture" "\$@"
exec "$BIN/camwatch-capture" "\$@"
EOF
chmod +x "$WORK/bin"/*
export CAMWATCH_BIN_DIR=$WORK/bin

start_fakecam "$port" --file "$still" --loop
t_start=$SECONDS
# The supervisor's forks log to camwatch.PID too, until they exec.
valgrind "${vg_long[@]}" --log-file="$WORK/vg/camwatch.%p" "$BIN/camwatch" >>"$WORK/camwatch.log" 2>&1 &
CAMWATCH_PID=$!
CW_PIDS+=("$CAMWATCH_PID")

# mem_fds PID: "KIB FDS": the process's anonymous memory (smaps_rollup's
# Anonymous: heap and stacks, valgrind's own included) and its descriptors.
# Not its private memory: the rings live in /dev/shm, and a ring's pages
# that only this process maps count as its private ones, more of them as
# the writer moves on and dies (some 12 MiB in detect over a dozen cycles).
mem_fds() {
    echo "$(awk '/^Anonymous:/ { print $2 }' "/proc/$1/smaps_rollup") $(find "/proc/$1/fd" -mindepth 1 | wc -l)"
}
declare -A samples
# sample WHEN: the long-lived processes' memory and descriptors, in
# samples[WHEN:NAME].
sample() {
    samples[$1:camwatch]=$(mem_fds "$CAMWATCH_PID")
    samples[$1:detect]=$(mem_fds "$detect_pid")
    samples[$1:record]=$(mem_fds "$record_pid")
}
# packets_published: the packets ring has had a packet.
packets_published() {
    "$BIN/camwatch" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if [r for r in s["rings"] if r["ring"] == "packets" and r["published"] > 0] else 1)'
}
# fakecam_said N WORD: the camera's mount was WORD (dropped, restored) N times.
fakecam_said() { [ "$(grep -c "mount /cam $2" "$WORK/fakecam.log")" = "$1" ]; }
# last_capture: the pid of the capture the supervisor started last (from
# its log: pgrep can miss a process in the middle of the wrapper's exec).
last_capture() { grep -o 'started camwatch-capture pid=[0-9]*' "$WORK/camwatch.log" | tail -n 1 | cut -d= -f2; }
# restarted PID: PID is gone, and the supervisor started another capture.
restarted() { ! kill -0 "$1" 2>/dev/null && [ "$(last_capture)" != "$1" ]; }
# back PID: the supervisor saw packets from capture PID after an outage.
back() { grep -q "camera is back: camwatch-capture pid=$1 receiving video" "$WORK/camwatch.log"; }

# first_connection: capture connected, or camwatch is gone (said below).
first_connection() {
    ! kill -0 "$CAMWATCH_PID" 2>/dev/null ||
        grep -q 'camwatch-capture\[[0-9]*\] INFO: connected to' "$WORK/camwatch.log"
}
wait_for 120 "capture's first connection under valgrind" first_connection
kill -0 "$CAMWATCH_PID" 2>/dev/null || fail "camwatch exited: $(tail -n 3 "$WORK/camwatch.log")"
detect_pid=$(stage_pid detect) record_pid=$(stage_pid record)
[ -n "$detect_pid" ] && [ -n "$record_pid" ] || fail "detect or record is not running"
log "connected after $((SECONDS - t_start)) s; detect pid $detect_pid, record pid $record_pid; $cycles cycles begin"

# Cycle N sees life N through: its packets reach the supervisor, the camera
# drops it, it exits 75, life N + 1 starts.
for cycle in $(seq 1 "$cycles"); do
    pid=$(last_capture)
    kill -0 "$pid" 2>/dev/null || fail "cycle $cycle: capture $pid is not running"
    if [ "$cycle" = 1 ]; then
        wait_for 60 "packets from the first capture" packets_published
    else
        wait_for 60 "cycle $cycle: the supervisor to see packets from capture $pid" back "$pid"
    fi
    [ "$cycle" != $((early + 1)) ] || sample early
    for p in "$CAMWATCH_PID" "$detect_pid" "$record_pid"; do # every cycle's, to read on a failure
        echo "$cycle $p $(mem_fds "$p")" >>"$WORK/samples.txt"
    done
    kill -USR1 "$FAKECAM_PID"
    wait_for 10 "the camera to drop its mount" fakecam_said "$cycle" dropped
    kill -USR1 "$FAKECAM_PID"
    wait_for 10 "the camera to restore its mount" fakecam_said "$cycle" restored
    wait_for 60 "cycle $cycle: capture $pid to exit" grep -q "camwatch-capture pid=$pid exited" "$WORK/camwatch.log"
    grep -q "camwatch-capture pid=$pid exited with 75 (camera unreachable or lost)" "$WORK/camwatch.log" ||
        fail "cycle $cycle: $(grep "camwatch-capture pid=$pid exited" "$WORK/camwatch.log")"
    wait_for 30 "cycle $cycle: capture restarted" restarted "$pid"
    [ $((cycle % 10)) != 0 ] || log "cycle $cycle done, $((SECONDS - t_start)) s"
done
pid=$(last_capture)
wait_for 60 "the last reconnect: the supervisor to see packets from capture $pid" back "$pid"
sample late
lives=$(cat "$WORK/capture.lives")
cp "$WORK/camwatch.log" "$WORK/cycles.log" # what the counts below are made of
log "$cycles cycles in $((SECONDS - t_start)) s"

# The footage with motion: a clip must still come of it.
stop_fakecam
mv "$WORK/fakecam.log" "$WORK/fakecam-still.log"
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
wait_for 90 "a clip after the last reconnect" has_clips 1
log "a clip after $((SECONDS - t_start)) s: $(clips | head -n 1)"
[ "$(stage_pid detect)" = "$detect_pid" ] && [ "$(stage_pid record)" = "$record_pid" ] ||
    fail "detect or record was restarted"

kill -TERM "$CAMWATCH_PID"
rc=0
wait "$CAMWATCH_PID" || rc=$?
[ $rc = 0 ] || fail "camwatch exited with $rc after SIGTERM, want 0 (99: valgrind found errors in it):
$(head -c 3000 "$WORK/vg/camwatch.$CAMWATCH_PID")"
log "stopped after $((SECONDS - t_start)) s"

# --- the checks -------------------------------------------------------------
count() { grep -c -- "$1" "$WORK/cycles.log" || true; }
connected=$(count 'camwatch-capture\[[0-9]*\] INFO: connected to')
reconnects=$(count 'camera is back: camwatch-capture pid=[0-9]* receiving video after 1 failed attempt ')
exits75=$(count 'camwatch-capture pid=[0-9]* exited with 75 (camera unreachable or lost)')
log "capture in the cycles: $lives lives, $connected connected, $exits75 exited with 75, $reconnects reconnected after one attempt"
[ "$lives" = $((cycles + 1)) ] && [ "$connected" = $((cycles + 1)) ] && [ "$exits75" = "$cycles" ] &&
    [ "$reconnects" = "$cycles" ] ||
    fail "want $((cycles + 1)) lives that connected, $cycles exits with 75 each followed by one reconnect"
# Every death before the stop was a capture's exit 75 (the camera's restart
# after the cycles may add some); detect and record stopped cleanly.
others=$(sed '/INFO: stopping: /q' "$WORK/camwatch.log" | grep -E 'pid=[0-9]+ (exited with|killed by)' |
    grep -v 'camwatch-capture pid=[0-9]* exited with 75 ' || true)
[ -z "$others" ] || fail "a stage died otherwise: $others"
for p in "$detect_pid" "$record_pid"; do
    grep -q "pid=$p exited with 0 (stopped)" "$WORK/camwatch.log" ||
        fail "pid $p did not exit 0 after SIGTERM (99: valgrind found errors): $(grep "pid=$p exited" "$WORK/camwatch.log")"
done

log "$(printf '%-9s %7s %7s %13s %13s' process "fds@$early" "fds@$cycles" "anonKiB@$early" "anonKiB@$cycles")"
bad=""
for p in camwatch detect record; do
    read -r m0 f0 <<<"${samples[early:$p]}"
    read -r m1 f1 <<<"${samples[late:$p]}"
    log "$(printf '%-9s %7s %7s %13s %13s' "$p" "$f0" "$f1" "$m0" "$m1")"
    [ "$f0" = "$f1" ] || bad+=" $p: descriptors $f0 -> $f1;"
    [ $((m1 - m0)) -le "$mem_slack_kib" ] ||
        bad+=" $p: anonymous memory grew by $((m1 - m0)) KiB (at most $mem_slack_kib allowed);"
done
[ -z "$bad" ] || fail "growth between cycle $early and cycle $cycles:$bad"

for f in "$WORK"/vg/*; do
    # --quiet: the log holds only what was found; empty is clean.
    [ ! -s "$f" ] || fail "valgrind on $(basename "$f"): $(head -c 3000 "$f")"
done
lives=$(cat "$WORK/capture.lives")
memchecked=$(find "$WORK/vg" -name 'capture.*' | wc -l)
[ "$memchecked" = $(((lives - 1) / vg_every + 1)) ] ||
    fail "$memchecked of $lives capture lives ran under memcheck, want every ${vg_every}th"
log "under memcheck: the supervisor, detect, record and $memchecked of $lives capture lives: no memory error, nothing definitely or indirectly lost"
check_video_dir
log "ok: $cycles reconnects, $((SECONDS - t_start)) s"
