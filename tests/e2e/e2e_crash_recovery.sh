#!/usr/bin/env bash
# Nothing lost to a crash: camwatch-record is killed with SIGKILL in the
# middle of a clip. The supervisor restarts it alone; the restarted record
# finds the fragmented MP4 it left in staging and delivers what it holds,
# playable, with a sidecar that says the clip was cut short by a crash.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 18870)
export MAX_CLIP_SECONDS=60
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch
wait_for 40 "a clip to be recording" compgen -G "$VIDEO_DIR/.staging/*.part"
sleep 4
record1=$(stage_pid record) capture1=$(stage_pid capture)
[ -n "$record1" ] && [ -n "$capture1" ] || fail "stages not running"
log "killing camwatch-record ($record1) mid-clip"
kill -KILL "$record1"
wait_for 30 "the crashed clip to be recovered" has_clips 1
clip=$(clips | head -n 1)
check_playable "$clip"
[ "$(sidecar_field "$clip" cut_short)" = crash ] || fail "recovered clip's cut_short is not crash"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
python3 -c "import sys; sys.exit(0 if float('$dur') >= 3 else 1)" || fail "recovered clip holds only $dur s"
record2=$(stage_pid record)
[ -n "$record2" ] && [ "$record2" != "$record1" ] || fail "record was not restarted"
[ "$(stage_pid capture)" = "$capture1" ] || fail "capture was restarted too"
log "recovered $clip ($dur s) after a crash; ok"
