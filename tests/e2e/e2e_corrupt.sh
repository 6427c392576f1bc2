#!/usr/bin/env bash
# Corrupted streams. The test camera serves a motion-free plate (the
# background plate of the test footage with a little sensor noise: nothing
# moves, so any motion event is a false one) damaged three ways, each to a
# camwatch of its own, all at once:
#   flip    bytes flipped in every packet of 2 s in every 4 s, keyframes
#           and NAL length prefixes included (FFmpeg's noise bitstream
#           filter): smeared pictures, NAL units cut short or run together;
#   drop    one packet in three dropped in 2 s of every 4 s, keyframes kept
#           (noise=drop): pictures lost whole from the bitstream itself (no
#           RTP loss to see);
#   resize  H.264 segments of 768x576, 640x480 and 384x288 (4 s each, same
#           profile) in one stream: the resolution changes every 4 s.
# Checked for each after some 20 s of it: no stage restarted (capture
# included: all three damages are recoverable, so not even its exit 75);
# detect raised no motion (no motion event in the events ring, no "motion:"
# line, no clip and nothing in staging); no sanitizer or crash report; the
# stream's pictures_withheld (camwatch status) is at least the damaged
# pictures capture reported, and above zero for flip and drop. (FFmpeg's
# H.264 decoder conceals a picture lost whole, a frame_num gap, by repeating
# the last reference and says so at debug level only: capture counts those
# lines and withholds what follows the gap up to the next keyframe.) For resize,
# detect followed every size the frames ring carried ("stream changed (now
# WxH)" for each) and withheld nothing for it: a new size is no damage.
source "$(dirname "$0")/lib.sh"

prepare_media
CORRUPT=$MEDIA/corrupt-v1
# build_corrupt_locked: the three files (and the clean one they come from),
# once, under prepare_media's lock.
build_corrupt_locked() {
    [ -s "$CORRUPT/resize.mp4" ] && return 0
    log "building the corrupted footage (once)"
    mkdir -p "$CORRUPT.tmp"
    local enc=(-c:v libx264 -profile:v high -preset veryfast -g 10 -keyint_min 10 -sc_threshold 0 -bf 0 -an)
    # quiet SIZE SECONDS OUT [ARGS]: the plate with sensor noise at 10 fps.
    quiet() {
        ffmpeg -loglevel error -y -loop 1 -framerate 10 -t "$2" -i "$MEDIA/plate.png" \
            -vf "scale=${1/x/:},format=yuv420p,setsar=1,noise=c0s=6:allf=t" "${enc[@]}" "${@:4}" "$3"
    }
    quiet 768x576 12 "$CORRUPT.tmp/clean.mp4"
    # Packet n of 40: the first 20 (2 s) are damaged.
    ffmpeg -loglevel error -y -i "$CORRUPT.tmp/clean.mp4" -c copy \
        -bsf:v "noise=amount=if(lt(mod(n\,40)\,20)\,300\,0)" "$CORRUPT.tmp/flip.mp4"
    ffmpeg -loglevel error -y -i "$CORRUPT.tmp/clean.mp4" -c copy \
        -bsf:v "noise=drop=not(key)*lt(mod(n\,40)\,20)*not(mod(n\,3))" "$CORRUPT.tmp/drop.mp4"
    local s i=0
    for s in 768x576 640x480 384x288; do
        quiet "$s" 4 "$CORRUPT.tmp/seg$i.h264" -bsf:v h264_mp4toannexb -f h264
        i=$((i + 1))
    done
    # Annex B streams concatenate: each segment brings its own SPS and PPS.
    cat "$CORRUPT.tmp"/seg{0,1,2}.h264 >"$CORRUPT.tmp/resize.h264"
    ffmpeg -loglevel error -y -fflags +genpts -r 10 -i "$CORRUPT.tmp/resize.h264" -c copy \
        "$CORRUPT.tmp/resize.mp4"
    rm -f "$CORRUPT.tmp"/*.h264
    rm -rf "$CORRUPT"
    mv "$CORRUPT.tmp" "$CORRUPT"
}
(
    flock 9
    build_corrupt_locked
) 9>"$MEDIA/.prepare.lock"

CASES="flip drop resize"
camwatch_env
base=$CAMERA_NAME
export DETECT_FPS=10 # every picture analysed: every smeared one would count
# instance CASE PORT: the test camera serving CASE's file, and a camwatch of
# its own (rings, folder, log) watching it.
instance() {
    local c=$1 port=$2
    "$BIN/camwatch-fakecam" --port "$port" --path /cam --file "$CORRUPT/$c.mp4" --loop \
        >>"$WORK/fakecam-$c.log" 2>&1 &
    CW_PIDS+=($!)
    wait_for 20 "the $c camera on $port" grep -q "serving rtsp://127.0.0.1:$port" "$WORK/fakecam-$c.log"
    mkdir -p "$WORK/$c"
    rm -f /dev/shm/camwatch."$base-$c".*
    CW_CLEANUP+=("rm -f /dev/shm/camwatch.$base-$c.*")
    CAMERA_NAME=$base-$c VIDEO_DIR=$WORK/$c RTSP_URL="rtsp://127.0.0.1:$port/cam" \
        "$BIN/camwatch" >>"$WORK/$c.log" 2>&1 &
    CW_PIDS+=($!)
    eval "SUP_$c=$!"
}
# status CASE: camwatch status --json of CASE's camwatch.
status() {
    CAMERA_NAME=$base-$1 VIDEO_DIR=$WORK/$1 RTSP_URL=rtsp://127.0.0.1/cam "$BIN/camwatch" status --json
}
# field CASE EXPR: a value out of CASE's status (s: the parsed JSON).
field() {
    status "$1" | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print($2)"
}
stage_pids() {
    field "$1" "' '.join(f\"{g['name'].split()[0]}={g['pid']}\" for g in s['stages'] if g.get('pid'))"
}

base_port=19800
for c in $CASES; do
    instance "$c" "$(test_port $base_port)"
    base_port=$((base_port + 10))
done
for c in $CASES; do
    wait_for 30 "$c: capture connected and detect learning" grep -q 'first frame: ' "$WORK/$c.log"
done
declare -A pids0
for c in $CASES; do
    pids0[$c]=$(stage_pids "$c")
    log "$c: stages $(stage_pids "$c")"
done
# Over 20 s: five damage windows of flip and drop, five size changes.
sleep 20

bad=0
complain() {
    log "FAIL: $*"
    bad=1
}
for c in $CASES; do
    pids=$(stage_pids "$c")
    [ "$pids" = "${pids0[$c]}" ] || complain "$c: stages restarted: ${pids0[$c]} -> $pids"
    restarts=$(field "$c" "sum(g.get('restarts', 0) for g in s['stages'])")
    [ "$restarts" = 0 ] || complain "$c: $restarts restarts"
    events=$(field "$c" "s['motion_events']")
    [ "$events" = 0 ] || complain "$c: $events motion events from a plate where nothing moves"
    ! grep -E 'INFO: motion' "$WORK/$c.log" | head -n 3 | grep . ||
        complain "$c: detect saw motion (above)"
    files=$(find "$WORK/$c" -name '*.mp4' -o -name '*.part' | head -n 3)
    [ -z "$files" ] || complain "$c: clips of nothing: $files"
    decoded=$(field "$c" "s['stream']['pictures_decoded']")
    withheld=$(field "$c" "s['stream']['pictures_withheld']")
    # What capture's reports said were damaged so far (they come at most
    # every few seconds, so they can only lag the counter).
    damaged=$(sed -n 's/.*corrupt video from the camera: [0-9]* rejected packets, \([0-9]*\) damaged pictures.*/\1/p' \
        "$WORK/$c.log" | awk '{n += $1} END {print n + 0}')
    log "$c: $decoded pictures decoded, $withheld withheld, $damaged reported damaged; stages $pids"
    [ "$decoded" -gt 100 ] || complain "$c: only $decoded pictures decoded in 20 s"
    if [ "$c" = resize ]; then
        [ "$withheld" = 0 ] || complain "resize: $withheld pictures withheld from a clean stream"
        for size in 640x480 384x288 768x576; do
            grep -q "stream changed (now $size)" "$WORK/$c.log" ||
                complain "resize: detect never followed the stream to $size"
        done
    else
        [ "$withheld" -ge "$damaged" ] || complain "$c: $withheld withheld, fewer than the $damaged damaged"
        [ "$withheld" -gt 0 ] || complain "$c: no picture withheld from a damaged stream"
    fi
done
[ $bad = 0 ] || fail "corrupted streams (above)"

# Stopped on request, every stage exits cleanly.
for c in $CASES; do
    eval "sup=\$SUP_$c"
    kill -TERM "$sup"
    rc=0
    wait "$sup" || rc=$?
    [ $rc = 0 ] || fail "$c: camwatch exited $rc on SIGTERM"
    ! grep -E 'camwatch-[a-z]+ pid=[0-9]+ (exited with [1-9]|killed by signal)' "$WORK/$c.log" | grep . ||
        fail "$c: a stage did not stop cleanly (above)"
done
log ok
