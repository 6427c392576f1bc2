#!/usr/bin/env bash
# End to end: the detection test set. One stream of cases, each a stretch
# whose truth is known by construction: the motion-free plate (temporal
# median of vtest.avi) or the real footage of people walking, changed with
# ffmpeg filters: sensor noise, brightness steps of several sizes both ways
# (some lift only part of the picture over the threshold), a tone curve, a
# lamp lighting one region, slow drifts, a dark and very noisy night with
# and without people, motion inside MOTION_MASK, a blinking light. The test
# camera serves it; camwatch records what it detects.
#
# Each clip is placed on the stream's own clock by the decoded MD5 of its
# first picture, and its sidecar's pre-roll gives where its motion started.
# Checks, for every case: every motion stretch caught within 1 s of its
# start, as its own event (the one before it has ended); no event starting
# in any other stretch. Prints the table (case, truth, detected, latency)
# and the night's threshold. Then camwatch-detect --debug-dir, run by hand,
# writes its pictures and CSV lines, and a bad MOTION_MASK stops camwatch
# with 78 and a message naming the polygon and the point.
source "$(dirname "$0")/lib.sh"

# name secs source truth filters (source: plate, or vtest:START seconds)
# The lamp and the blinking light are drawn boxes: the lamp a white veil
# over the brick wall (frame = 0.65 * scene + 0.35 * white, a gain and an
# offset of its own), the light a white patch that is on half of each
# second. The night is 0.6 times the contrast, 77 levels darker, with
# strong noise in every frame.
NIGHT="eq=brightness=-0.3:contrast=0.6,noise=c0s=100:allf=t"
CASES="
warm-up        10 plate    quiet  -
quiet-noise     8 plate    quiet  -
walk            8 vtest:4  motion -
gap             6 plate    quiet  -
step+20         4 plate    quiet  eq=brightness=0.08
step+50         4 plate    quiet  eq=brightness=0.2
step-back       4 plate    quiet  -
step-20         4 plate    quiet  eq=brightness=-0.08
step-50         4 plate    quiet  eq=brightness=-0.2
step-back2      4 plate    quiet  -
curve-step      4 plate    quiet  curves=all='0/0 0.5/0.7 1/1'
step-back3      4 plate    quiet  -
walk+light      8 vtest:20 motion eq=brightness=0.12
gap2            6 plate    quiet  -
lamp            6 plate    quiet  drawbox=x=iw*0.42:y=0:w=iw*0.3:h=ih*0.17:color=white@0.35:t=fill
gap3            5 plate    quiet  -
drift-up       15 plate    quiet  eq=brightness='0.25*t/15':eval=frame
drift-down     15 plate    quiet  eq=brightness='0.25-0.25*t/15':eval=frame
night          10 plate    quiet  $NIGHT
night-walk      8 vtest:40 motion $NIGHT
night-gap       6 plate    quiet  $NIGHT
day             6 plate    quiet  -
masked-motion   8 plate    quiet  @square
blink          10 plate    quiet  drawbox=x=iw*0.86:y=ih*0.06:w=iw*0.08:h=ih*0.1:color=white@0.8:t=fill:enable='lt(mod(t\,1)\,0.5)'
walk-again      8 vtest:60 motion -
tail            6 plate    quiet  -
"
# The lower left lawn, where the masked square moves; zones over the road
# (where people walk) and the building (where the lamp shines).
MASK="0,0.62 0.4,0.62 0.4,1 0,1"
ZONES="road:0,0.3 1,0.3 1,0.85 0,0.85; building:0.4,0 0.76,0 0.76,0.2 0.4,0.2"

# The set, built once: its name carries a hash of the recipe.
prepare_detection_media() {
    prepare_media
    local src
    src=$(vtest_avi) || exit 1
    [ -s "$MEDIA/plate.png" ] || fail "$MEDIA/plate.png is missing: remove $MEDIA and rerun"
    local hash
    hash=$(printf '%s\n%s' "$CASES" "$(declare -f prepare_detection_media)" | md5sum | cut -c1-12)
    SET=$MEDIA/detection-$hash.mp4
    TRUTH=$MEDIA/detection-$hash.truth
    SET_MD5=$MEDIA/detection-$hash.md5
    [ -s "$SET" ] && [ -s "$TRUTH" ] && [ -s "$SET_MD5" ] && return 0
    log "building the detection set (once)"
    rm -f "$MEDIA"/detection-* # sets of earlier recipes
    local -a args=()
    local chains="" labels="" n=0 t=0 name secs from truth filters f sensor
    : >"$TRUTH.tmp"
    while read -r name secs from truth filters; do
        [ -n "$name" ] || continue
        case "$from" in
        plate) args+=(-loop 1 -framerate 10 -t "$secs" -i "$MEDIA/plate.png") ;;
        vtest:*) args+=(-ss "${from#vtest:}" -t "$secs" -i "$src") ;;
        esac
        f="[$n:v]fps=10,format=yuv420p,setsar=1,setpts=PTS-STARTPTS"
        # Light sensor noise everywhere, as a camera has, seeded apart in
        # every case: it makes every picture unique, so a clip's first one
        # tells where it is.
        sensor="noise=c0s=8:allf=t:all_seed=$((n + 1))"
        if [ "$filters" = @square ]; then
            chains+="color=c=yellow:s=64x64:r=10:d=${secs}[sq$n];${f}[p$n];"
            chains+="[p$n][sq$n]overlay=x='30+20*t':y=H*0.72:eval=frame,${sensor}[s$n];"
        else
            [ "$filters" = - ] || f+=",$filters"
            chains+="$f,${sensor}[s$n];"
        fi
        labels+="[s$n]"
        echo "$name $t $((t + secs)) $truth" >>"$TRUTH.tmp"
        t=$((t + secs))
        n=$((n + 1))
    done <<<"$CASES"
    ffmpeg -loglevel error -y "${args[@]}" -filter_complex "${chains}${labels}concat=n=$n:v=1:a=0[v]" \
        -map '[v]' -c:v libx264 -preset veryfast -g 10 -keyint_min 10 -sc_threshold 0 -bf 0 \
        -an "$SET.tmp.mp4"
    ffmpeg -loglevel error -i "$SET.tmp.mp4" -f framemd5 - | grep -v '^#' |
        awk -F', *' '{print $6}' >"$SET_MD5"
    [ "$(sort "$SET_MD5" | uniq -d | wc -l)" = 0 ] || fail "the set has pictures that repeat"
    mv "$TRUTH.tmp" "$TRUTH"
    mv "$SET.tmp.mp4" "$SET"
}

prepare_detection_media
SET_SECONDS=$(awk 'END {print $3}' "$TRUTH")
port=$(test_port 18780)
export MOTION_MASK=$MASK MOTION_ZONES=$ZONES
# A low floor, so that the night's noise has to raise the threshold.
export MOTION_THRESHOLD=15
export MAX_CLIP_SECONDS=120 LOGLEVEL=DEBUG
camwatch_env
start_fakecam "$port" --file "$SET" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch
wait_for 30 "the detector's first frame" grep -q 'first frame: 768x576' "$WORK/camwatch.log"
log "camwatch runs: the set lasts ${SET_SECONDS}s"
sleep $((SET_SECONDS + 3))
kill -TERM "$CAMWATCH_PID"
rc=0
wait "$CAMWATCH_PID" || rc=$?
[ $rc = 0 ] || fail "camwatch exited with $rc after SIGTERM"

# Each clip on the stream's clock: start, motion start, end (seconds).
: >"$WORK/events.txt"
for clip in $(clips); do
    first=$(ffmpeg -loglevel error -i "$clip" -frames:v 1 -f framemd5 - | grep -v '^#' |
        awk -F', *' '{print $6}')
    index=$(grep -nxF "$first" "$SET_MD5" | cut -d: -f1)
    [ -n "$index" ] || fail "the first picture of $clip is not in the set"
    [ "$(echo "$index" | wc -l)" = 1 ] || fail "the first picture of $clip is in the set twice"
    python3 - "${clip%.mp4}.json" "$index" >>"$WORK/events.txt" <<'EOF'
import datetime, json, sys
side = json.load(open(sys.argv[1]))
t = lambda k: datetime.datetime.fromisoformat(side[k]).timestamp()
start = (int(sys.argv[2]) - 1) / 10.0  # frames are 10 a second
print(f"{start:.2f} {start + side['pre_capture_seconds']:.2f} {start + t('end') - t('start'):.2f}")
EOF
done
sort -n -o "$WORK/events.txt" "$WORK/events.txt"
log "$(wc -l <"$WORK/events.txt") clips"

# The night's threshold, from detect's DEBUG lines over the night cases.
thresholds=$(grep -o 'threshold [0-9]*' "$WORK/camwatch.log" | awk '{print $2}' | sort -n | uniq -c |
    awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')

python3 - "$TRUTH" "$WORK/events.txt" <<'EOF' | tee "$WORK/table.txt"
import sys
truth = [l.split() for l in open(sys.argv[1]) if l.strip()]
events = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
starts = [e[1] for e in events]
bad = 0
print(f"{'case':14} {'stretch':>13}  {'truth':6} {'detected':28} {'latency':>7}  verdict")
for name, a, b, kind in truth:
    a, b = float(a), float(b)
    mine = [s for s in starts if a - 0.2 <= s < b - 0.2]
    det = ", ".join(f"event at {s - a:+.1f}s" for s in mine) or "-"
    lat = f"{mine[0] - a:.1f}s" if kind == "motion" and mine else "-"
    if kind == "motion":
        # Caught within 1 s, and as its own event: whatever came before ended.
        before = [e for e in events if e[1] < a - 0.2]
        own = not before or before[-1][2] <= a + (mine[0] - a if mine else 0)
        ok = bool(mine) and mine[0] - a <= 1.0 and own
    else:
        ok = not mine
    bad += not ok
    print(f"{name:14} {a:5.0f}-{b:5.0f}s  {kind:6} {det:28} {lat:>7}  {'ok' if ok else 'FAIL'}")
print(f"{len(truth) - bad} of {len(truth)} cases as they should be")
sys.exit(1 if bad else 0)
EOF
[ "${PIPESTATUS[0]}" = 0 ] || fail "the detection table has failures (above)"
log "thresholds applied (level x frames): $thresholds"

# Every motion was on the road, and the log says so.
grep -E 'camwatch-detect.*INFO: motion:' "$WORK/camwatch.log" | sed 's/^.*INFO: /    /'
lines=$(grep -cE 'camwatch-detect.*INFO: motion:' "$WORK/camwatch.log" || true)
road=$(grep -cE 'camwatch-detect.*INFO: motion:.* in zone road$' "$WORK/camwatch.log" || true)
if [ "$lines" -lt 4 ] || [ "$road" != "$lines" ]; then
    fail "$road of $lines motion log lines name the zone road"
fi
# And every clip's sidecar names the road among the zones its motion
# touched (people walking far off also cross the building's zone).
for clip in $(clips); do
    z=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["zones"] or ["(null)"]))' "${clip%.mp4}.json") ||
        fail "$(basename "$clip")'s sidecar cannot be read"
    case " $z " in *" road "*) ;; *) fail "$(basename "$clip")'s sidecar gives zones '$z', without the road" ;; esac
    log "$(basename "$clip"): zones $z"
done

# --debug-dir, as a user runs it: capture and detect by hand, 20 frames.
rm -f /dev/shm/camwatch."$CAMERA_NAME".*
"$BIN/camwatch-detect" --debug-dir "$WORK/debug" >"$WORK/debug-detect.log" 2>&1 &
detect_pid=$!
CW_PIDS+=("$detect_pid")
"$BIN/camwatch-capture" >"$WORK/debug-capture.log" 2>&1 &
capture_pid=$!
CW_PIDS+=("$capture_pid")
wait_for 30 "20 analysed frames in $WORK/debug" test -s "$WORK/debug/000020-mask.pgm"
kill -TERM "$capture_pid" "$detect_pid"
wait "$capture_pid" "$detect_pid" || true
for kind in frame.ppm:P6 diff.pgm:P5 mask.pgm:P5; do
    file=$WORK/debug/000020-${kind%%:*}
    [ "$(head -c 2 "$file")" = "${kind##*:}" ] || fail "$file is not ${kind##*:}"
    [ "$(sed -n 2p "$file")" = "320 240" ] || fail "$file is not 320x240"
done
head -n 1 "$WORK/debug/detect.csv" | grep -q '^time,frame,lag_ms,changed_percent,light_gain' ||
    fail "detect.csv has no header"
[ "$(wc -l <"$WORK/debug/detect.csv")" -ge 21 ] || fail "detect.csv has fewer than 20 frames"
log "--debug-dir: $(find "$WORK/debug" -name '*.p?m' | wc -l) pictures, $(($(wc -l <"$WORK/debug/detect.csv") - 1)) CSV lines"

# A bad polygon: camwatch stops with 78, naming the polygon and the point.
export MOTION_MASK="0,0 0.5,0 0.5,0.5; 0.6,0.6 1.2,0.6 0.6,1"
rm -f /dev/shm/camwatch."$CAMERA_NAME".*
rc=0
timeout 30 "$BIN/camwatch" >"$WORK/bad-mask.log" 2>&1 || rc=$?
[ $rc = 78 ] || fail "camwatch exited with $rc on a bad MOTION_MASK, want 78"
grep -q 'MOTION_MASK: polygon 2, point 2 ("1.2,0.6"): x 1.2 is outside 0..1' "$WORK/bad-mask.log" ||
    fail "no line naming polygon 2, point 2 in $WORK/bad-mask.log"
! grep -q "started camwatch-" "$WORK/bad-mask.log" || fail "a stage was started despite the bad MOTION_MASK"
rc=0
"$BIN/camwatch" check >"$WORK/bad-mask-check.log" 2>&1 || rc=$?
[ $rc = 78 ] && grep -q 'MOTION_MASK: polygon 2, point 2' "$WORK/bad-mask-check.log" ||
    fail "camwatch check gave $rc on the bad MOTION_MASK: $(cat "$WORK/bad-mask-check.log")"
log "bad MOTION_MASK: exit 78 before any stage starts (camwatch and camwatch check), $(grep -o 'MOTION_MASK: polygon 2, point 2[^;]*' "$WORK/bad-mask.log")"
log "ok"
