#!/usr/bin/env bash
# End to end: the wall clock steps (NTP) in the middle of an event, and the
# clip neither ends early nor stretches. The footage has two stretches of
# people walking (3 s each) between motion-free plate; every stage runs
# under libfaketime, whose offset this test changes while they run (the
# monotonic clock is left alone, as a real step leaves it): one hour
# forward in the middle of the first event, back again in the middle of the
# second. Checks, for both clips: the duration ffprobe reads is the pre-roll
# + the motion (as detect measured it) + POST_CAPTURE_SECONDS, within 1 s,
# and the sidecar's end - start is that duration too (not an hour off). The log shows the step was
# seen by the stages.
source "$(dirname "$0")/lib.sh"

FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
    [ -e "$f" ] && FAKETIME_LIB=$f && break
done
[ -n "$FAKETIME_LIB" ] || fail "libfaketime not found (Debian package faketime: scripts/install-deps --test)"

prepare_media
port=$(test_port 19620)
WALK_SECONDS=3
POST=3
# plate 4 s | walk 3 s | plate 6 s | walk 3 s | plate 5 s: the events start
# at 4 s and 13 s into the stream and are over at 10 s and 19 s.
A_AT=4 B_AT=13
# Built once into $MEDIA, under the lock prepare_media uses (tests may run side by side).
STEPS=$MEDIA/clock-steps.mp4
(
    flock 9
    [ -s "$STEPS" ] && exit 0
    src=$(vtest_avi) || exit 1
    ffmpeg -loglevel error -y \
        -loop 1 -framerate 10 -t 4 -i "$MEDIA/plate.png" \
        -ss 4 -t $WALK_SECONDS -i "$src" \
        -loop 1 -framerate 10 -t 6 -i "$MEDIA/plate.png" \
        -ss 20 -t $WALK_SECONDS -i "$src" \
        -loop 1 -framerate 10 -t 5 -i "$MEDIA/plate.png" -filter_complex \
        "[0:v]format=yuv420p,setsar=1[a];[1:v]fps=10,format=yuv420p,setsar=1[b];
         [2:v]format=yuv420p,setsar=1[c];[3:v]fps=10,format=yuv420p,setsar=1[d];
         [4:v]format=yuv420p,setsar=1[e];[a][b][c][d][e]concat=n=5:v=1[v]" \
        -map '[v]' -c:v libx264 -preset veryfast -g 10 -keyint_min 10 -sc_threshold 0 -bf 0 \
        -an "$STEPS.tmp.mp4" && mv "$STEPS.tmp.mp4" "$STEPS"
) 9>"$MEDIA/.prepare.lock" || fail "cannot build the test footage"

# The offset every stage reads on each call (FAKETIME_NO_CACHE): "+0" is the
# true time; CLOCK_MONOTONIC is never faked.
echo "+0" >"$WORK/faketime"
export PRE_CAPTURE_SECONDS=2 POST_CAPTURE_SECONDS=$POST MAX_CLIP_SECONDS=60
start_fakecam "$port" --file "$STEPS"
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
camwatch_env
# A sanitizer build's ASan wants to be the first library loaded: libfaketime
# is, and the two get on (it only wraps the clock calls).
LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$WORK/faketime FAKETIME_NO_CACHE=1 \
    FAKETIME_DONT_FAKE_MONOTONIC=1 \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 start_camwatch
# The file starts playing when capture connects: the stream's clock.
wait_for 20 "capture to connect" grep -q 'connected to' "$WORK/camwatch.log"
t0=$SECONDS
# after SECONDS_INTO_THE_STREAM: sleep until then.
after() { while [ $((SECONDS - t0)) -lt "$1" ]; do sleep 0.1; done; }

after $((A_AT + 2))
echo "+3600" >"$WORK/faketime"
log "wall clock stepped 1 h forward, $((SECONDS - t0)) s into the stream"
after $((B_AT + 2))
echo "+0" >"$WORK/faketime"
log "wall clock stepped 1 h back, $((SECONDS - t0)) s into the stream"
wait_for 20 "two clips" has_clips 2
sleep 1
kill -TERM "$CAMWATCH_PID"
wait "$CAMWATCH_PID" || true

# The stages saw the step: some of their log lines are stamped an hour ahead.
python3 - "$WORK/camwatch.log" <<'PY' || fail "no log line of the stages is stamped an hour ahead: the step did not take"
import datetime, re, sys
now = datetime.datetime.now()
ahead = [l for l in open(sys.argv[1], errors="replace")
         if (m := re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", l))
         and datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S") > now + datetime.timedelta(minutes=50)]
print(f"{len(ahead)} log lines stamped an hour ahead, e.g. {ahead[0].strip()}" if ahead else "", end="")
sys.exit(0 if ahead else 1)
PY
echo

n=$(clip_count)
[ "$n" = 2 ] || { clips; fail "$n clips, want 2 (one per event: a clip cut at the step starts another)"; }
# How long each event's motion lasted, as detect measured it (on its
# monotonic clock, in its "motion ended after" lines, one per event).
mapfile -t motion < <(grep -o 'motion ended after [0-9.]*' "$WORK/camwatch.log" | awk '{print $4}')
[ "${#motion[@]}" = 2 ] || fail "detect saw ${#motion[@]} events, want 2"
i=0
for clip in $(clips); do
    check_playable "$clip"
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
    pre=$(sidecar_field "$clip" pre_capture_seconds)
    cut=$(sidecar_field "$clip" cut_short)
    python3 - "$clip" "$dur" "$pre" "${motion[$i]}" "$POST" "$cut" <<'PY' || fail "$clip: see above"
import datetime, json, sys
clip, dur, pre, walk, post, cut = sys.argv[1], *map(float, sys.argv[2:6]), sys.argv[6]
side = json.load(open(clip[:-4] + ".json"))
span = (datetime.datetime.fromisoformat(side["end"]) -
        datetime.datetime.fromisoformat(side["start"])).total_seconds()
want = pre + walk + post
print(f"{clip.rsplit('/', 1)[1]}: {dur:.2f} s, want pre-roll {pre:.2f} + motion {walk:.1f} "
      f"+ post {post:.0f} = {want:.2f} s; sidecar end - start {span:.2f} s; cut_short {cut}")
ok = abs(dur - want) <= 1.0 and abs(span - dur) <= 0.5 and cut == "null"
sys.exit(0 if ok else 1)
PY
    i=$((i + 1))
done
log "both clips last their motion + post-capture across the steps; ok"
