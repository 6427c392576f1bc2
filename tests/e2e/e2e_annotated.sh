#!/usr/bin/env bash
# RECORD_MODE=annotated end to end. Two camwatch instances watch the same
# test camera (real footage: a still background, then people walking), one
# annotated, one copying (the default). Checks, on the first clip of each:
# the annotated clip is H.264 that decodes without one error, lasts the
# event's wall-clock time (sidecar start to end) within 2 %, starts at 0,
# carries the camera's sound as AAC starting within 100 ms of the video and
# lasting as long within 2 %, and its sidecar says record_mode "annotated"; some picture of it has the outline colour
# (magenta: high U and V) all along the edges of the sidecar's peak boxes; no
# picture of the copied clip has it there, and that sidecar says "copy".
source "$(dirname "$0")/lib.sh"

prepare_media
port=$(test_port 19640)
# With G.711 sound, which both modes transcode to AAC beside the video.
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop --audio pcma
camwatch_env
base=$CAMERA_NAME
# instance NAME RECORD_MODE: one camwatch with its own rings, folder and log.
instance() {
    local name=$1 mode=$2
    mkdir -p "$WORK/$name"
    CAMERA_NAME=$base-$name VIDEO_DIR=$WORK/$name RECORD_MODE=$mode \
        RTSP_URL="rtsp://127.0.0.1:$port/cam" "$BIN/camwatch" >>"$WORK/$name.log" 2>&1 &
    CW_PIDS+=($!)
    CW_CLEANUP+=("rm -f /dev/shm/camwatch.$base-$name.*")
}
instance annotated annotated
instance copy copy

first_clip() { find "$WORK/$1" -path "$WORK/$1/.staging" -prune -o -name '*.mp4' -print | sort | head -n 1; }
has_clip() { [ -n "$(first_clip "$1")" ]; }
for name in annotated copy; do
    wait_for 60 "a clip of $name" has_clip "$name"
done
ann=$(first_clip annotated)
copy=$(first_clip copy)
grep -q "RECORD_MODE=annotated: clips are re-encoded" "$WORK/annotated.log" ||
    fail "camwatch-record did not say it annotates"

# 1. H.264, decodes cleanly, the right duration and mode.
check_playable "$ann"
[ "$(sidecar_field "$ann" record_mode)" = annotated ] ||
    fail "$ann: sidecar record_mode is $(sidecar_field "$ann" record_mode), want annotated"
[ "$(sidecar_field "$ann" codec)" = h264 ] || fail "$ann: sidecar codec is $(sidecar_field "$ann" codec)"
[ "$(sidecar_field "$copy" record_mode)" = copy ] ||
    fail "$copy: sidecar record_mode is $(sidecar_field "$copy" record_mode), want copy"
# The video's duration: the sound may run on by part of an AAC frame, as in copy mode.
dur=$(ffprobe -v error -select_streams v:0 -show_entries stream=duration -of csv=p=0 "$ann")
python3 - "${ann%.mp4}.json" "$dur" <<'PY' || fail "$ann: duration (above)"
import datetime, json, sys
s = json.load(open(sys.argv[1]))
t = lambda k: datetime.datetime.fromisoformat(s[k]).timestamp()
wall, dur = t("end") - t("start"), float(sys.argv[2])
print(f"ffprobe: video {dur:.3f} s, event's wall time {wall:.3f} s")
sys.exit(0 if wall > 1 and abs(dur - wall) <= 0.02 * wall else 1)
PY
vstart=$(ffprobe -v error -select_streams v:0 -show_entries stream=start_time -of csv=p=0 "$ann")
python3 -c "import sys; sys.exit(0 if abs(float('$vstart')) < 0.001 else 1)" ||
    fail "$ann starts at $vstart s, want 0"

ffprobe -v error -show_entries stream=codec_type,codec_name,start_time,duration -of csv=p=0 "$ann" \
    >"$WORK/streams.txt"
python3 - "$WORK/streams.txt" <<'PY' || fail "$ann: its streams (above)"
import sys
rows = {r[1]: r for r in (l.strip().split(",") for l in open(sys.argv[1])) if len(r) == 4}
v, a = rows.get("video"), rows.get("audio")
print(f"streams: {sorted(rows.values())}")
ok = v and a and v[0] == "h264" and a[0] == "aac"
ok = ok and abs(float(v[2]) - float(a[2])) <= 0.100
ok = ok and abs(float(a[3]) - float(v[3])) <= 0.02 * float(v[3])
sys.exit(0 if ok else 1)
PY

# 2. The outlines: the share of each box's edge pixels (the middle of a
# 4-pixel line, on the chroma planes) that are magenta, best picture of the clip.
# outline_share CLIP BOXES_FROM: prints the best share over the clip's pictures.
outline_share() {
    local clip=$1 boxes=$2 size
    size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$clip")
    # (The script is an argument: stdin is the pictures.)
    ffmpeg -v error -i "$clip" -map 0:v -f rawvideo -pix_fmt yuv420p - |
        python3 -c "$OUTLINE_PY" "${boxes%.mp4}.json" "$size"
}
OUTLINE_PY=$(cat <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
w, h = map(int, sys.argv[2].split(","))
cw, ch = w // 2, h // 2
# The largest box, its edges moved out to even pixels as drawn.
x, y, bw, bh = max(s["boxes"], key=lambda b: b[2] * b[3])
x0, y0, x1, y1 = x & ~1, y & ~1, min(w, (x + bw + 1) & ~1), min(h, (y + bh + 1) & ~1)
# Chroma samples in the middle of each 4-pixel line: 1 in from the edge.
spots = [(cx, y0 // 2 + 1) for cx in range(x0 // 2 + 1, x1 // 2 - 1)]
spots += [(cx, y1 // 2 - 2) for cx in range(x0 // 2 + 1, x1 // 2 - 1)]
spots += [(x0 // 2 + 1, cy) for cy in range(y0 // 2 + 1, y1 // 2 - 1)]
spots += [(x1 // 2 - 2, cy) for cy in range(y0 // 2 + 1, y1 // 2 - 1)]
frame = w * h * 3 // 2
best = 0.0
while True:
    f = sys.stdin.buffer.read(frame)
    if len(f) < frame:
        break
    u, v = w * h, w * h + cw * ch
    hits = sum(1 for cx, cy in spots if f[u + cy * cw + cx] > 165 and f[v + cy * cw + cx] > 175)
    best = max(best, hits / len(spots))
print(f"{best:.3f} box {[x, y, bw, bh]}")
PY
)
a=$(outline_share "$ann" "$ann")
c=$(outline_share "$copy" "$ann")
c_own=$(outline_share "$copy" "$copy")
log "outline colour along the peak box's edges: annotated clip $a; copied clip $c (own box: $c_own)"
python3 -c "import sys; sys.exit(0 if float('${a%% *}') >= 0.9 else 1)" ||
    fail "$ann: no picture has the outline along its sidecar's box ($a)"
for share in "$c" "$c_own"; do
    python3 -c "import sys; sys.exit(0 if float('${share%% *}') <= 0.2 else 1)" ||
        fail "$copy: the copied clip has outline colour along a box's edges ($share)"
done
log "ok"
