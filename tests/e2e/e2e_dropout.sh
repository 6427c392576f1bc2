#!/usr/bin/env bash
# Camera dropout: the test camera stops in the middle of a clip and comes
# back 15 s later. The clip in progress is closed and playable, only capture
# is restarted (detect and record keep their PIDs), and after the camera
# returns new motion gives a new clip.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 18750)
export MAX_CLIP_SECONDS=20 RETRY_SECONDS=2
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch

wait_for 40 "a clip to be recording" compgen -G "$VIDEO_DIR/.staging/*.part"
sleep 2
capture1=$(stage_pid capture) detect1=$(stage_pid detect) record1=$(stage_pid record)
[ -n "$capture1" ] && [ -n "$detect1" ] && [ -n "$record1" ] || fail "not all three stages run"
log "recording; pids capture=$capture1 detect=$detect1 record=$record1; stopping the camera"
stop_fakecam
down_at=$SECONDS

wait_for 14 "the interrupted clip to be delivered" has_clips 1
clip=$(clips | head -n 1)
check_playable "$clip"
[ "$(sidecar_field "$clip" cut_short)" = camera_lost ] || fail "interrupted clip's cut_short is not camera_lost"
log "interrupted clip delivered after $((SECONDS - down_at)) s: $clip"
kill -0 "$capture1" 2>/dev/null && fail "capture ($capture1) still runs without a camera"

left=$((15 - (SECONDS - down_at)))
[ $left -le 0 ] || sleep $left
log "camera back after $((SECONDS - down_at)) s"
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop

wait_for 60 "a new clip after the camera returned" has_clips 2
capture2=$(stage_pid capture)
[ -n "$capture2" ] && [ "$capture2" != "$capture1" ] || fail "capture was not restarted ($capture2)"
[ "$(stage_pid detect)" = "$detect1" ] || fail "detect was restarted"
[ "$(stage_pid record)" = "$record1" ] || fail "record was restarted"
kill -0 "$detect1" && kill -0 "$record1" || fail "detect or record died"
for c in $(clips); do check_playable "$c"; done
log "capture pid $capture1 -> $capture2; detect and record kept pids $detect1, $record1; ok"
