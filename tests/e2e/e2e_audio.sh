#!/usr/bin/env bash
# Sound: the test camera sends the real footage with a live tone beside it,
# as AAC, as G.711 A-law and as G.711 mu-law; four camwatch instances record
# at once (they share the cameras' streams): AAC (copied), A-law and mu-law
# (transcoded to AAC), and A-law with RECORD_AUDIO=off. Checks, with ffprobe:
# each clip holds the H.264 video and AAC audio (video only with off), the
# two start within 100 ms of each other, the audio lasts what the video lasts
# (within 2 %), the clip lasts the event's wall-clock time (within 2 %), the AAC camera's audio packets are copied (byte-identical to
# what the camera sends), the pre-roll is intact (the first picture is from
# before the motion), and every clip is a regular MP4 with its index (moov)
# in front of its media (mdat): fast start.
source "$(dirname "$0")/lib.sh"

prepare_media
port_a=$(test_port 19300)
start_fakecam "$port_a" --file "$MEDIA/camera.mp4" --loop --audio pcma
port_b=$(test_port 19350)
FAKECAM_LOG=$WORK/fakecam-aac.log
"$BIN/camwatch-fakecam" --port "$port_b" --path /cam --file "$MEDIA/camera.mp4" --loop \
    --audio aac >>"$FAKECAM_LOG" 2>&1 &
CW_PIDS+=($!)
wait_for 20 "AAC camera on $port_b" grep -q "serving rtsp://127.0.0.1:$port_b" "$FAKECAM_LOG"
port_c=$(test_port 19400)
"$BIN/camwatch-fakecam" --port "$port_c" --path /cam --file "$MEDIA/camera.mp4" --loop \
    --audio pcmu >>"$WORK/fakecam-pcmu.log" 2>&1 &
CW_PIDS+=($!)
wait_for 20 "mu-law camera on $port_c" grep -q "serving rtsp://127.0.0.1:$port_c" "$WORK/fakecam-pcmu.log"

# A client of the AAC camera from the start: the packets it sent.
ffmpeg -loglevel error -rtsp_transport tcp -i "rtsp://127.0.0.1:$port_b/cam" -map 0:a -c copy \
    -t 60 -f framemd5 "$WORK/aac-camera.framemd5" </dev/null 2>"$WORK/aac-watcher.log" &
WATCHER_PID=$!
CW_PIDS+=("$WATCHER_PID")

camwatch_env
base=$CAMERA_NAME
# instance NAME PORT RECORD_AUDIO: one camwatch with its own rings, folder and log.
instance() {
    local name=$1 port=$2 audio=$3
    mkdir -p "$WORK/$name"
    CAMERA_NAME=$base-$name VIDEO_DIR=$WORK/$name RECORD_AUDIO=$audio \
        RTSP_URL="rtsp://127.0.0.1:$port/cam" "$BIN/camwatch" >>"$WORK/$name.log" 2>&1 &
    CW_PIDS+=($!)
    eval "SUP_$name=$!"
    CW_CLEANUP+=("rm -f /dev/shm/camwatch.$base-$name.*")
}
instance alaw "$port_a" auto
instance aac "$port_b" auto
instance mulaw "$port_c" auto
instance off "$port_a" off

first_clip() { find "$WORK/$1" -path "$WORK/$1/.staging" -prune -o -name '*.mp4' -print | sort | head -n 1; }
has_clip() { [ -n "$(first_clip "$1")" ]; }
for name in alaw aac mulaw off; do
    wait_for 60 "a clip of $name" has_clip "$name"
done

# streams CLIP: "type codec start duration" per stream.
streams() {
    ffprobe -v error -show_entries stream=codec_type,codec_name,start_time,duration \
        -of csv=p=0 "$1" | awk -F, '{print $2, $1, $3, $4}'
}

# is_faststart CLIP: a regular MP4, its index (moov) before its media (mdat), no fragments.
is_faststart() {
    python3 - "$1" <<'PY'
import struct, sys
kinds, off, data = [], 0, open(sys.argv[1], "rb").read()
while off + 8 <= len(data):
    n, kind = struct.unpack(">I4s", data[off:off + 8])
    n = struct.unpack(">Q", data[off + 8:off + 16])[0] if n == 1 else n
    kinds.append(kind.decode())
    off += n
print(" ".join(kinds))
ok = "moov" in kinds and "mdat" in kinds and kinds.index("moov") < kinds.index("mdat") and "moof" not in kinds
sys.exit(0 if ok else 1)
PY
}

check_clip() {
    local name=$1 want=$2 clip
    clip=$(first_clip "$name")
    streams "$clip" >"$WORK/$name.streams"
    log "$name: $(tr '\n' ';' <"$WORK/$name.streams")"
    python3 - "$WORK/$name.streams" "$want" <<'PY' || fail "$name: $clip does not hold what it should (above)"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
kinds = {r[0]: r for r in rows}
want = sys.argv[2]
if want == "video":
    sys.exit(0 if [r[0] for r in rows] == ["video"] and kinds["video"][1] == "h264" else 1)
v, a = kinds.get("video"), kinds.get("audio")
if not v or not a or len(rows) != 2 or v[1] != "h264" or a[1] != "aac":
    print(f"want one h264 video and one aac audio stream, got {rows}")
    sys.exit(1)
vs, vd, as_, ad = float(v[2]), float(v[3]), float(a[2]), float(a[3])
if abs(vs - as_) > 0.100:
    print(f"video starts at {vs:.3f} s, audio at {as_:.3f} s: more than 100 ms apart")
    sys.exit(1)
if abs(ad - vd) > 0.02 * vd:
    print(f"audio lasts {ad:.3f} s, video {vd:.3f} s: more than 2 % apart")
    sys.exit(1)
PY
    # The whole clip (ffprobe's format duration: its longest stream) lasts
    # the event's wall-clock time, sidecar start to end, within 2 %.
    local fdur
    fdur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
    python3 - "${clip%.mp4}.json" "$fdur" "$name" <<'PY' || fail "$name: $clip lasts other than its event (above)"
import datetime, json, sys
s = json.load(open(sys.argv[1]))
t = lambda k: datetime.datetime.fromisoformat(s[k]).timestamp()
wall, dur = t("end") - t("start"), float(sys.argv[2])
print(f"[{sys.argv[3]}] clip {dur:.3f} s, the event's wall time {wall:.3f} s")
sys.exit(0 if wall > 1 and abs(dur - wall) <= 0.02 * wall else 1)
PY
    is_faststart "$clip" || fail "$name: $clip is not a fast-start MP4"
    VIDEO_DIR=$WORK/$name check_video_dir "$WORK/$name.log"
    # Pre-roll: the first picture is one of the motion-free frames.
    local first
    first=$(ffmpeg -loglevel error -i "$clip" -map 0:v -frames:v 1 -f framemd5 - | grep -v '^#' | awk -F', *' '{print $6}')
    grep -qxF "$first" "$MEDIA/plate-md5.txt" || fail "$name: the clip's first picture is not from before the motion"
}

check_clip alaw audio
check_clip aac audio
check_clip mulaw audio
check_clip off video

# A crash mid-clip: the recovered clip keeps its sound, and is fast start too.
record=$(pgrep -P "$SUP_alaw" -f '(^|/)camwatch-record$' || true)
[ -n "$record" ] || fail "alaw: camwatch-record is not running"
# Clips follow one another (MAX_CLIP_SECONDS): right after a delivery the
# next clip has just begun; 3 s later it holds complete fragments.
alaw_clips() { find "$WORK/alaw" -path "$WORK/alaw/.staging" -prune -o -name '*.mp4' -print | wc -l; }
n_alaw=$(alaw_clips)
more_alaw() { [ "$(alaw_clips)" -gt "$n_alaw" ]; }
wait_for 20 "alaw: the next clip" more_alaw
sleep 3
log "alaw: killing camwatch-record ($record) mid-clip"
kill -KILL "$record"
crashed() { grep -lE '"cut_short":[[:space:]]*"crash"' "$WORK"/alaw/20*/*.json 2>/dev/null | head -n 1; }
has_crashed() { [ -n "$(crashed)" ]; }
wait_for 30 "alaw: the crashed clip to be recovered" has_crashed
recovered=$(crashed)
recovered=${recovered%.json}.mp4
[ -s "$recovered" ] || fail "alaw: no video beside $(crashed)"
streams "$recovered" >"$WORK/recovered.streams"
log "recovered: $(tr '\n' ';' <"$WORK/recovered.streams")"
grep -q '^audio aac 0' "$WORK/recovered.streams" || fail "alaw: the recovered clip lost its sound"
is_faststart "$recovered" || fail "alaw: the recovered clip $recovered is not a fast-start MP4"
grep "connected to" "$WORK/alaw.log" | grep -q ", audio pcm_alaw 8000 Hz" || fail "capture did not report the A-law sound"
grep -q "connected to" "$WORK/off.log" || fail "off: capture never connected"
! grep "connected to" "$WORK/off.log" | grep -q ", audio " || fail "RECORD_AUDIO=off still read the camera's sound"

# AAC is copied: the clip's audio packets are the camera's, as a client
# watching the same (shared) stream from the start received them.
kill -INT "$WATCHER_PID" 2>/dev/null || true
wait "$WATCHER_PID" 2>/dev/null || true
aac_clip=$(first_clip aac)
ffmpeg -loglevel error -i "$aac_clip" -map 0:a -c copy -f framemd5 - | grep -v '^#' |
    awk -F', *' '{print $6}' >"$WORK/aac-clip.md5"
grep -v '^#' "$WORK/aac-camera.framemd5" | awk -F', *' '{print $6}' >"$WORK/aac-camera.md5"
total=$(wc -l <"$WORK/aac-clip.md5")
same=$(grep -cxFf "$WORK/aac-camera.md5" "$WORK/aac-clip.md5" || true)
log "aac: $same of $total audio packets of the clip are byte-identical to the camera's"
[ "$total" -ge 50 ] && [ "$same" = "$total" ] || fail "aac: the clip's audio is not the camera's packets ($same of $total)"
log "ok"
