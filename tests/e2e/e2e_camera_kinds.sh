#!/usr/bin/env bash
# Kinds of camera that work without anything set for them, each against the
# test camera on 127.0.0.1:
#  1. Digest authentication (the camera offers Digest only): capture
#     connects and a clip appears. With a wrong password: one clear line
#     (the credentials were rejected), exit 75 and a retry, and the password
#     never in the log (the URL shows as admin:***@).
#  2. RTSPS with a self-signed certificate made here: FFmpeg's RTSP client
#     does not check the camera's certificate (README), so it connects, over
#     TCP inside TLS, and a clip appears.
#  3. An H.265 camera: the clip is HEVC as the camera sent it, tagged hvc1
#     (what Apple's players need), and decodes without error.
#  4. The same camera with RECORD_MODE=annotated: the re-encoded clip is
#     H.264 tagged avc1 (an hvc1 tag on H.264 is refused by the muxer).
source "$(dirname "$0")/lib.sh"

port=$(test_port 19850)
export MAX_CLIP_SECONDS=10 POST_CAPTURE_SECONDS=1

# A camera of this run: the log of the previous one is kept aside, so that
# start_fakecam waits for this one's line.
fakecam() {
    [ ! -f "$WORK/fakecam.log" ] || mv "$WORK/fakecam.log" "$WORK/fakecam-$(date +%s%N).log"
    start_fakecam "$port" "$@"
}
# clip_decodes CLIP CODEC TAG: the clip's video is CODEC tagged TAG, and
# every picture decodes without an error.
clip_decodes() {
    local probe out
    probe=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,codec_tag_string \
        -of csv=p=0 "$1")
    [ "$probe" = "$2,$3" ] || fail "$1 is '$probe', want $2,$3"
    out=$(ffmpeg -v error -i "$1" -f null - 2>&1) || fail "$1 does not decode"
    [ -z "$out" ] || fail "$1 decodes with errors: $out"
    log "clip $(basename "$1"): $probe, $(ffprobe -v error -show_entries format=duration -of csv=p=0 "$1") s, decodes clean"
}
camwatch_env

log "1. Digest authentication"
secret='Dg7-secret-pw'
FAKECAM_PASSWORD=$secret fakecam --pattern --width 320 --height 240 --user admin --auth digest
export RTSP_URL="rtsp://admin:$secret@127.0.0.1:$port/cam"
# The camera asks for Digest alone: ffprobe's Basic-only attempt would fail.
timeout 20 ffprobe -v trace "$RTSP_URL" >"$WORK/ffprobe-digest.log" 2>&1 || true
grep -q 'WWW-Authenticate: Digest' "$WORK/ffprobe-digest.log" ||
    fail "the test camera does not ask for Digest"
rm -f "$WORK/ffprobe-digest.log" # it shows the password
new_run
start_camwatch
wait_for 30 "capture to connect with Digest" run_has 'connected to'
run_log | grep 'connected to' | sed 's/^/    /'
wait_for 60 "a clip behind Digest" has_clips 1
clip_decodes "$(clips | head -n 1)" h264 avc1
stop_camwatch

wrong='Wrong-Dg-4471'
export RTSP_URL="rtsp://admin:$wrong@127.0.0.1:$port/cam"
new_run
start_camwatch
wait_for 30 "capture to fail and be retried" \
    bash -c "[ \$(tail -n +$RUN_START '$WORK/camwatch.log' | grep -c 'camwatch-capture\[.*ERROR: cannot open') -ge 2 ]"
stop_camwatch
line=$(run_log | grep 'camwatch-capture\[.*ERROR: cannot open' | head -n 1)
echo "    $line"
case "$line" in
*"cannot open rtsp://admin:***@127.0.0.1:$port/cam: camera rejected the credentials (401 Unauthorized): check the user and password in RTSP_URL"*) ;;
*) fail "the error for a wrong Digest password is not the credentials line: $line" ;;
esac
run_has 'camwatch-capture pid=[0-9]* exited with 75' || fail "capture did not exit with 75"
if grep -n -e "$secret" -e "$wrong" "$WORK/camwatch.log"; then
    fail "a password appeared in the log (above)"
fi
log "wrong Digest password: rejected, exit 75, retried, masked; ok"
stop_fakecam

log "2. RTSPS with a self-signed certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>"$WORK/openssl.log" ||
    fail "openssl could not make a certificate: $(cat "$WORK/openssl.log")"
[ ! -f "$WORK/fakecam.log" ] || mv "$WORK/fakecam.log" "$WORK/fakecam-$(date +%s%N).log"
"$BIN/camwatch-fakecam" --port "$port" --path /cam --pattern --width 320 --height 240 \
    --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" >>"$WORK/fakecam.log" 2>&1 &
FAKECAM_PID=$!
CW_PIDS+=("$FAKECAM_PID")
wait_for 20 "the RTSPS camera" grep -q "serving rtsps://127.0.0.1:$port/cam" "$WORK/fakecam.log"
export RTSP_URL="rtsps://127.0.0.1:$port/cam"
# A plain rtsp:// client gets no answer it can read: TLS is really on.
! timeout 5 ffprobe -v error "rtsp://127.0.0.1:$port/cam" 2>/dev/null ||
    fail "the RTSPS camera answers plain RTSP: TLS is not in use"
new_run
start_camwatch
wait_for 30 "capture to connect over RTSPS" run_has 'connected to'
run_log | grep 'connected to' | sed 's/^/    /'
run_has "connected to rtsps://127.0.0.1:$port/cam: h264 320x240 .*RTP over TCP" ||
    fail "the connected line does not say RTSPS over TCP"
wait_for 60 "a clip over RTSPS" has_clips 1
clip_decodes "$(clips | head -n 1)" h264 avc1
stop_camwatch
stop_fakecam

log "3. an H.265 camera"
fakecam --pattern --codec h265 --width 320 --height 240
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
new_run
start_camwatch
wait_for 30 "capture to connect" run_has 'connected to'
run_log | grep 'connected to' | sed 's/^/    /'
run_has 'connected to .*: hevc 320x240' || fail "capture did not read H.265"
wait_for 60 "an H.265 clip" has_clips 1
clip_decodes "$(clips | head -n 1)" hevc hvc1
stop_camwatch

log "4. the H.265 camera with RECORD_MODE=annotated: the clip is H.264 (avc1)"
new_run
RECORD_MODE=annotated start_camwatch
wait_for 60 "an annotated clip of the H.265 camera" has_clips 1
clip_decodes "$(clips | head -n 1)" h264 avc1
stop_camwatch
log "Digest, RTSPS and H.265 cameras recorded, H.265 annotated too; ok"
