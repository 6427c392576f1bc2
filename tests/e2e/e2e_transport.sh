#!/usr/bin/env bash
# RTP transports against a test camera that refuses RTSP over TCP, as some
# cameras and small servers do (SETUP answered 461 Unsupported Transport):
#  1. RTSP_TRANSPORT unset (auto): capture falls back to UDP, says why, and
#     a playable clip of the motion appears; a restarted capture (the
#     reconnect) goes straight to UDP.
#  2. RTSP_TRANSPORT=tcp: capture fails with a line naming RTSP_TRANSPORT,
#     exits 75, and is retried (the camera's settings may change).
#  3. RTSP_TRANSPORT=udp: connects over UDP at once, and a clip appears.
#  4. A camera that answers a TCP SETUP with a bare 400 Bad Request: auto
#     falls back too; an explicit tcp gets a hint naming RTSP_TRANSPORT.
#  5. Packet loss: the motion-free background plate over UDP with 2% of the
#     RTP packets dropped by the camera. Capture counts and reports the
#     losses, detection keeps getting pictures, and no damaged picture
#     reaches it: no motion, no clip.
#  6. The same in H.265, whose FFmpeg decoder marks no picture damaged: the
#     counted losses alone must keep the damage from detection.
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 19010)
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
export MAX_CLIP_SECONDS=12


start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop --protocols udp
camwatch_env

log "1. RTSP_TRANSPORT unset: auto"
unset RTSP_TRANSPORT
new_run
start_camwatch
wait_for 30 "capture to connect" run_has 'connected to'
run_log | grep 'camwatch-capture' | grep -E 'refuses|connected to' | sed 's/^/    /'
run_has 'the camera refuses RTP over TCP (SETUP answered 461 Unsupported Transport): using UDP' ||
    fail "no log line saying UDP was chosen and why"
run_has 'connected to .*RTP over UDP' || fail "the connected line does not say UDP"
wait_for 60 "a clip over UDP" has_clips 1
clip=$(clips | head -n 1)
check_playable "$clip"
log "clip over UDP: $clip ($(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip") s)"
# A reconnect is a new capture process: it must start with the transport
# that worked (kept in the packets ring), not ask over TCP again.
kill -KILL "$(stage_pid capture)"
wait_for 30 "the restarted capture to connect" \
    bash -c "[ \$(tail -n +$RUN_START '$WORK/camwatch.log' | grep -c 'connected to') -ge 2 ]"
run_log | grep 'connected to' | tail -n 1 | grep -q 'RTP over UDP' ||
    fail "the restarted capture did not connect over UDP"
[ "$(run_log | grep -c 'refuses RTP over TCP')" = 1 ] ||
    fail "the restarted capture tried TCP again instead of the transport that worked"
log "capture restarted: connected over UDP at once, TCP not tried again"
stop_camwatch

log "2. RTSP_TRANSPORT=tcp against a camera that refuses it"
export RTSP_TRANSPORT=tcp
new_run
start_camwatch
# The supervisor logs the first exit; the retries show as capture's lines.
wait_for 30 "capture to fail, exit 75 and be retried" \
    bash -c "[ \$(tail -n +$RUN_START '$WORK/camwatch.log' | grep -c 'camwatch-capture\[.*ERROR: cannot open') -ge 2 ]"
run_log | grep -E 'cannot open|exited with' | head -n 3 | sed 's/^/    /'
run_has 'camwatch-capture pid=[0-9]* exited with 75' || fail "capture did not exit with 75"
line=$(run_log | grep 'camwatch-capture\[.*ERROR: cannot open' | head -n 1)
case "$line" in
*"refuses RTP over TCP (SETUP answered 461 Unsupported Transport): set RTSP_TRANSPORT=udp or auto"*) ;;
*) fail "the error line does not say what to set: $line" ;;
esac
kill -0 "$CAMWATCH_PID" || fail "camwatch gave up on a camera-side condition"
[ "$(clip_count)" = 0 ] || fail "a clip appeared although capture never connected"
stop_camwatch

log "3. RTSP_TRANSPORT=udp"
export RTSP_TRANSPORT=udp
new_run
start_camwatch
wait_for 30 "capture to connect" run_has 'connected to'
run_has 'connected to .*RTP over UDP' || fail "the connected line does not say UDP"
! run_has 'refuses' || fail "an explicit udp went through a fallback"
wait_for 60 "a clip over explicit UDP" has_clips 1
check_playable "$(clips | head -n 1)"
stop_camwatch
stop_fakecam

log "4. a camera that refuses TCP with a bare 400 Bad Request"
# libavformat logs no line for a 400, to SETUP or any other request: only
# UDP working shows that the transport was the trouble.
mv "$WORK/fakecam.log" "$WORK/fakecam-461.log" # start_fakecam waits for a new line
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop --protocols udp --refuse-status 400
unset RTSP_TRANSPORT
new_run
start_camwatch
wait_for 30 "capture to connect" run_has 'connected to'
run_log | grep 'camwatch-capture' | grep -E 'refuses|connected to' | sed 's/^/    /'
run_has 'the camera refuses RTP over TCP (it answered 400 Bad Request): using UDP' ||
    fail "no log line saying UDP was chosen after a 400"
run_has 'connected to .*RTP over UDP' || fail "the connected line does not say UDP"
stop_camwatch
export RTSP_TRANSPORT=tcp
new_run
start_camwatch
wait_for 30 "capture to fail" run_has 'camwatch-capture\[.*ERROR: cannot open'
line=$(run_log | grep 'camwatch-capture\[.*ERROR: cannot open' | head -n 1)
echo "    $line"
case "$line" in
*"answered 400 Bad Request; a camera that refuses RTP over TCP answers so too: try RTSP_TRANSPORT=udp or auto"*) ;;
*) fail "the error line does not say what to try: $line" ;;
esac
stop_camwatch
stop_fakecam

# lossy_plate FILE: the motion-free FILE served in a loop over UDP with 2% of
# its RTP packets dropped, for 20 s. Capture counts and reports the losses,
# detection gets pictures, and none of them is damaged: no motion, no clip.
lossy_plate() {
    mv "$WORK/fakecam.log" "$WORK/fakecam-$(date +%s%N).log" # start_fakecam waits for a new line
    start_fakecam "$port" --file "$1" --loop --protocols udp --drop-percent 2
    new_run
    start_camwatch
    wait_for 30 "capture to connect" run_has 'connected to'
    sleep 20
    stop_camwatch
    stop_fakecam
    run_log | grep -E 'camwatch-capture.*(connected|being lost|published)|camwatch-detect.*motion' |
        sed 's/^/    /'
    grep 'dropped' "$WORK/fakecam.log" | sed 's/^/    /'

    local dropped summary lost withheld frames
    dropped=$(sed -n 's/.*dropped \([0-9]*\) of [0-9]* RTP packets.*/\1/p' "$WORK/fakecam.log")
    [ "${dropped:-0}" -gt 0 ] || fail "the test camera dropped nothing"
    run_has 'WARNING: packets from the camera are being lost (RTP over UDP)' ||
        fail "capture did not say packets were being lost"
    summary=$(run_log | grep 'camwatch-capture.*INFO: published' | tail -n 1)
    [ -n "$summary" ] || fail "capture logged no summary at the stop"
    lost=$(sed -n 's/.*; \([0-9]*\) RTP packets lost.*/\1/p' <<<"$summary")
    withheld=$(sed -n 's/.* \([0-9]*\) pictures withheld as damaged.*/\1/p' <<<"$summary")
    frames=$(sed -n 's/.* and \([0-9]*\) frames;.*/\1/p' <<<"$summary")
    log "camera dropped $dropped packets; capture counted $lost lost, withheld $withheld pictures, published $frames frames"
    # Every gap is counted once given up on; the last ones may still be
    # waited for when capture stops, the first sent before it listened.
    [ "${lost:-0}" -gt 0 ] && [ "$lost" -le "$dropped" ] && [ "$lost" -ge $((dropped / 2)) ] ||
        fail "capture counted ${lost:-no} lost packets; the camera dropped $dropped"
    if run_has 'camwatch-detect.*motion:' || [ "$(clip_count)" != 0 ]; then
        fail "damaged pictures reached detection: motion in a motion-free picture ($(clip_count) clips)"
    fi
    [ "${withheld:-0}" -gt 0 ] || fail "no damaged picture was withheld"
    # Detection was watching: the test means something only if it saw pictures.
    [ "${frames:-0}" -ge 10 ] || fail "only ${frames:-no} frames reached detection in 20 s"
    log "no motion and no clip from $lost lost packets; ok"
}

unset RTSP_TRANSPORT
log "5. the motion-free plate as H.264 over UDP, 2% of the RTP packets dropped"
# The first PLATE_SECONDS of the footage, copied (a keyframe every second).
ffmpeg -loglevel error -y -i "$MEDIA/camera.mp4" -t "$PLATE_SECONDS" -c copy "$WORK/plate.mp4"
lossy_plate "$WORK/plate.mp4"

log "6. the same as H.265, whose decoder marks no damaged picture: only the losses tell"
if [ ! -s "$MEDIA/plate-h265.mp4" ]; then
    ffmpeg -loglevel error -y -loop 1 -framerate 10 -t "$PLATE_SECONDS" -i "$MEDIA/plate.png" \
        -vf format=yuv420p -c:v libx265 -preset veryfast \
        -x265-params keyint=10:min-keyint=10:scenecut=0:bframes=0:log-level=error \
        -tag:v hvc1 -an "$WORK/plate-h265.mp4"
    mv "$WORK/plate-h265.mp4" "$MEDIA/plate-h265.mp4" # atomic: another build may read it
fi
lossy_plate "$MEDIA/plate-h265.mp4"
