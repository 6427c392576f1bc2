#!/usr/bin/env bash
# HWACCEL on a machine without a decoding device (this one: no /dev/dri, no
# V4L2 decoder): capture says what it tried and why it failed, decodes in
# software, and clips still come.
#  1. HWACCEL=vaapi and HWACCEL=auto: the fallback line, and a clip.
#  2. HWACCEL=v4l2m2m and HWACCEL=drm: the fallback line, and capture runs.
#  3. HWACCEL=cuda: exit 78 before anything starts, naming HWACCEL and the
#     accepted values.
source "$(dirname "$0")/lib.sh"

port=$(test_port 19880)
export RTSP_URL="rtsp://127.0.0.1:$port/cam" MAX_CLIP_SECONDS=10 POST_CAPTURE_SECONDS=1

[ ! -e /dev/dri/renderD128 ] || log "NOTE: this machine has /dev/dri/renderD128: VAAPI may work here"

start_fakecam "$port" --pattern --width 320 --height 240
camwatch_env

# hwaccel_run VALUE LINE CLIP: camwatch with HWACCEL=VALUE logs LINE (a
# pattern) from capture once connected, and, with CLIP=clip, delivers a
# clip that decodes clean.
hwaccel_run() {
    export HWACCEL=$1
    new_run
    start_camwatch
    wait_for 30 "capture to connect with HWACCEL=$1" run_has 'connected to'
    run_log | grep 'camwatch-capture.*HWACCEL' | sed 's/^/    /'
    run_log | grep -qE "camwatch-capture\[[0-9]+\] $2" ||
        fail "HWACCEL=$1: no line matching '$2'"
    [ "$(run_log | grep -c 'camwatch-capture.*HWACCEL')" = 1 ] ||
        fail "HWACCEL=$1: capture logged more than one HWACCEL line"
    if [ "$3" = clip ]; then
        wait_for 60 "a clip with HWACCEL=$1" has_clips 1
        local clip out
        clip=$(clips | head -n 1)
        out=$(ffmpeg -v error -i "$clip" -f null - 2>&1) || fail "$clip does not decode"
        [ -z "$out" ] || fail "$clip decodes with errors: $out"
        log "HWACCEL=$1: clip $(basename "$clip"), decodes clean"
    fi
    stop_camwatch
}

log "1. HWACCEL=vaapi and auto: software, and a clip"
hwaccel_run vaapi 'WARNING: HWACCEL=vaapi: tried vaapi \(cannot open a vaapi device \(/dev/dri\): .+\): decoding in software' clip
hwaccel_run auto 'INFO: HWACCEL=auto: tried vaapi \(cannot open a vaapi device \(/dev/dri\): .+\), v4l2m2m \((cannot open h264_v4l2m2m: .+|this FFmpeg has no h264_v4l2m2m decoder)\), drm \(FFmpeg.s h264 decoder cannot use drm\): decoding in software' clip

log "2. HWACCEL=v4l2m2m and drm: software"
hwaccel_run v4l2m2m 'WARNING: HWACCEL=v4l2m2m: tried v4l2m2m \((cannot open h264_v4l2m2m: .+|this FFmpeg has no h264_v4l2m2m decoder)\): decoding in software' -
hwaccel_run drm "WARNING: HWACCEL=drm: tried drm \(FFmpeg.s h264 decoder cannot use drm\): decoding in software" -
unset HWACCEL

log "3. HWACCEL=cuda: a configuration error"
rc=0
HWACCEL=cuda "$BIN/camwatch" >"$WORK/bad.log" 2>&1 || rc=$?
cat "$WORK/bad.log" | sed 's/^/    /'
[ $rc = 78 ] || fail "HWACCEL=cuda: camwatch exited with $rc, want 78"
grep -q 'HWACCEL="cuda" is not accepted: use one of auto|none|vaapi|v4l2m2m|drm' "$WORK/bad.log" ||
    fail "HWACCEL=cuda: the message does not name HWACCEL and the accepted values"
log "HWACCEL falls back to software with one line saying why; ok"
