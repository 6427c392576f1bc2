#!/usr/bin/env bash
# `camwatch status [--json]` against a running pipeline with the test
# camera: the supervisor's stage table (state, pid, restarts, last exit)
# read from shared memory, the camera online, input and analysed fps, the
# rings' readers, clips today and the last clip, disk space. A stage killed
# shows its death and its restart; a camera not running exits 69.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 18900)
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch
wait_for 60 "a first clip" has_clips 1

status_json() { "$BIN/camwatch" status --json >"$WORK/status.json"; }
# jq-free field access: q EXPR prints a Python expression over the document `s`.
q() { /usr/bin/python3 -c "import json,sys; s=json.load(open('$WORK/status.json')); st={x['name']:x for x in s['stages']}; print($1)"; }

wait_for 20 "status with the camera online" sh -c "'$BIN/camwatch' status --json | grep -q '\"online\":[[:space:]]*true'"
status_json
cat "$WORK/status.json"
[ "$(q "s['supervisor']['pid']")" = "$CAMWATCH_PID" ] || fail "supervisor pid is not $CAMWATCH_PID"
for stage in capture detect record; do
    [ "$(q "st['camwatch-$stage']['state']")" = running ] || fail "$stage is not running"
    [ "$(q "st['camwatch-$stage']['pid']")" = "$(stage_pid $stage)" ] || fail "$stage's pid is not $(stage_pid $stage)"
    [ "$(q "st['camwatch-$stage']['restarts']")" = 0 ] || fail "$stage restarted"
    q "st['camwatch-$stage']['heartbeat_age_seconds'] < 5" | grep -qx True || fail "$stage's heartbeat is old"
done
[ "$(q "st['camwatch-http']['state']")" = disabled ] || fail "http is not disabled without HTTP_LISTEN"
# The footage is 10 fps; detection analyses DETECT_FPS (5) of them.
q "7 <= s['fps']['input'] <= 13" | grep -qx True || fail "input fps $(q "s['fps']['input']"), want about 10"
q "2 <= s['fps']['analysed'] <= 7" | grep -qx True || fail "analysed fps $(q "s['fps']['analysed']"), want about 5"
q "sorted(r['role'] for g in s['rings'] for r in g['readers'])" | grep -q record || fail "record is not among the readers"
# Ring lag: record keeps up with the packets; stopped (SIGSTOP) for 2 s,
# it falls behind by about the 20 packets the camera sent meanwhile, and
# catches up once it runs again.
lag() { q "[r['lag'] for g in s['rings'] if g['ring'] == 'packets' for r in g['readers'] if r['role'] == 'record'][0]"; }
[ "$(lag)" -le 5 ] || fail "record is $(lag) packets behind while running"
rec=$(stage_pid record)
kill -STOP "$rec"
sleep 2
status_json
stopped_lag=$(lag)
kill -CONT "$rec"
[ "$stopped_lag" -ge 12 ] || fail "record stopped for 2 s shows a lag of $stopped_lag packets, want about 20"
wait_for 10 "record to catch up" sh -c "'$BIN/camwatch' status --json | /usr/bin/python3 -c \"import json,sys; s=json.load(sys.stdin); sys.exit(0 if [r['lag'] for g in s['rings'] if g['ring'] == 'packets' for r in g['readers'] if r['role'] == 'record'][0] <= 5 else 1)\""
log "ring lag: record 2 s stopped: $stopped_lag packets behind; caught up after SIGCONT"
status_json
[ "$(q "s['clips']['today']")" -ge 1 ] || fail "no clip today"
last=$(q "s['clips']['last']['video']")
[ -f "$VIDEO_DIR/$last" ] || fail "last clip $last does not exist"
q "s['disk']['free_bytes'] > 0" | grep -qx True || fail "no free disk space reported"

# A stage's death and restart are in the table.
old=$(stage_pid detect)
kill -KILL "$old"
wait_for 20 "detect restarted" sh -c "[ -n \"\$(pgrep -P $CAMWATCH_PID -f '(^|/)camwatch-detect\$')\" ] && [ \"\$(pgrep -P $CAMWATCH_PID -f '(^|/)camwatch-detect\$')\" != $old ]"
wait_for 10 "status showing the restart" sh -c "'$BIN/camwatch' status --json | grep -q '\"restarts\":[[:space:]]*1'"
status_json
[ "$(q "st['camwatch-detect']['restarts']")" = 1 ] || fail "detect's restart not counted"
[ "$(q "st['camwatch-detect']['last_exit']['signal']")" = SIGKILL ] || fail "detect's death not shown as SIGKILL"
[ "$(q "st['camwatch-detect']['pid']")" = "$(stage_pid detect)" ] || fail "detect's new pid not shown"
[ "$(q "st['camwatch-record']['restarts']")" = 0 ] || fail "record restarted too"

# The text form says the same.
"$BIN/camwatch" status >"$WORK/status.txt" || fail "camwatch status exited $?"
cat "$WORK/status.txt"
grep -qE "^camwatch-detect +running +$(stage_pid detect) " "$WORK/status.txt" || fail "text status lacks detect's line"
grep -q "^camera online since" "$WORK/status.txt" || fail "text status does not say the camera is online"

# What capture reports of the stream: connected over TCP, about 10 fps,
# bytes flowing; its counters go on across a reconnect (a new capture
# process), which is counted; the camera gone, the error is there.
[ "$(q "s['stream']['connected']")" = True ] || fail "the stream is not reported connected"
[ "$(q "s['stream']['transport']")" = TCP ] || fail "transport $(q "s['stream']['transport']"), want TCP"
q "7 <= s['stream']['input_fps'] <= 13" | grep -qx True || fail "stream input_fps $(q "s['stream']['input_fps']"), want about 10"
q "s['stream']['bitrate_kbps'] > 0 and s['stream']['bytes'] > 0" | grep -qx True || fail "no bytes reported"
[ "$(q "s['stream']['reconnects']")" = 0 ] || fail "reconnects $(q "s['stream']['reconnects']") before any"
bytes_before=$(q "s['stream']['bytes']")
grep -qE "^stream: connected over TCP, [0-9.]+ fps" "$WORK/status.txt" || fail "text status lacks the stream line"
old=$(stage_pid capture)
kill -KILL "$old"
wait_for 20 "a second connection" sh -c "'$BIN/camwatch' status --json | /usr/bin/python3 -c \"import json,sys; s=json.load(sys.stdin)['stream']; sys.exit(0 if s['connections'] == 2 and s['connected'] else 1)\""
sleep 1.5
status_json
[ "$(q "s['stream']['reconnects']")" = 1 ] || fail "the reconnect is not counted"
q "s['stream']['bytes'] > $bytes_before" | grep -qx True || fail "bytes went from $bytes_before to $(q "s['stream']['bytes']") over the reconnect"
stop_fakecam
wait_for 30 "the camera's loss in the stream's status" sh -c "'$BIN/camwatch' status --json | /usr/bin/python3 -c \"import json,sys; s=json.load(sys.stdin)['stream']; sys.exit(0 if not s['connected'] and s['last_error'] else 1)\""
status_json
log "stream after the camera went: $(q "s['stream']['last_error']['message']") ($(q "s['stream']['connections']") connections, $(q "s['stream']['bytes']") bytes)"
"$BIN/camwatch" status | grep -q "^stream: last error at" || fail "text status lacks the stream's last error"

kill -TERM "$CAMWATCH_PID"
wait "$CAMWATCH_PID" || true
rc=0
"$BIN/camwatch" status >"$WORK/stopped.txt" 2>&1 || rc=$?
[ $rc = 69 ] || fail "status of a stopped camwatch exited $rc, want 69: $(cat "$WORK/stopped.txt")"
log "$(cat "$WORK/stopped.txt")"
log ok
