#!/usr/bin/env bash
# Retention, for real: VIDEO_DIR is a 16 MiB tmpfs holding old clips of this
# camera (real MP4s with snapshot and sidecar, named as delivery names them)
# and a user's own files beside them. camwatch then records the test camera
# with RETAIN_DAYS=7 and MIN_FREE_PERCENT=40. Checks: the clips older than 7
# days are deleted at start, with their snapshots and sidecars; their date
# folders go once empty, and only then; new clips keep arriving while the
# oldest go for free space, the newest staying; the disk never fills; every
# file of the user's survives byte for byte.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test mounts a tmpfs and needs root (CI runs as root)"
prepare_media
port=$(test_port 18980)
camwatch_env
FLOOR=40
mkdir -p "$VIDEO_DIR"
mount -t tmpfs -o size=16m tmpfs "$VIDEO_DIR" || fail "cannot mount a tmpfs on $VIDEO_DIR"
CW_CLEANUP+=("umount -l '$VIDEO_DIR'")

# A small real clip (2 s of the footage) and a snapshot to copy around.
ffmpeg -loglevel error -y -ss 10 -t 2 -i "$MEDIA/camera.mp4" -c copy "$WORK/small.mp4"
ffmpeg -loglevel error -y -ss 10 -i "$MEDIA/camera.mp4" -frames:v 1 "$WORK/small.jpg"

# old_clip DAYS_AGO HHMMSS [SUFFIX] [CAMERA]: a clip as camwatch delivers it,
# recorded DAYS_AGO days ago at HH:MM:SS local time. Prints its stem.
old_clip() {
    local ago=$1 hms=$2 suffix=${3:-} cam=${4:-$CAMERA_NAME}
    local when="$(date -d "$ago days ago" +%F) ${hms:0:2}:${hms:2:2}:${hms:4:2}"
    local day stamp iso
    day=$(date -d "$when" +%F)
    stamp=$(date -d "$when" +%Y%m%d-%H%M%S)
    iso=$(date -d "$when" +%Y-%m-%dT%H:%M:%S.000%:z)
    local base=$cam-$stamp$suffix
    mkdir -p "$VIDEO_DIR/$day"
    cp "$WORK/small.mp4" "$VIDEO_DIR/$day/$base.mp4"
    cp "$WORK/small.jpg" "$VIDEO_DIR/$day/$base.jpg"
    python3 - "$VIDEO_DIR/$day/$base.json" "$cam" "$base" "$iso" <<'EOF'
import json, sys
path, cam, base, iso = sys.argv[1:]
json.dump({"camera": cam, "video": base + ".mp4", "snapshot": base + ".jpg", "start": iso,
           "end": iso, "motion_start": iso, "pre_capture_seconds": 0.0,
           "duration_seconds": 2.0, "peak_changed_percent": 3.5, "boxes": [[1, 2, 30, 40]],
           "width": 768, "height": 576, "codec": "h264", "cut_short": None},
          open(path, "w"), indent=2)
EOF
    echo "$day/$base"
}

day_of() { date -d "$1 days ago" +%F; }
stamp_of() { date -d "$(date -d "$1 days ago" +%F) ${2:0:2}:${2:2:2}:${2:4:2}" +%Y%m%d-%H%M%S; }

# This camera's clips: beyond RETAIN_DAYS (three of them in one second's
# name and its -1), and within it.
aged=("$(old_clip 40 101500)" "$(old_clip 20 080000)" "$(old_clip 10 230000)"
      "$(old_clip 10 230000 -1)")
recent=("$(old_clip 3 120000)" "$(old_clip 1 120000)")

# The user's own files, some of them as close to ours as they get.
d40=$VIDEO_DIR/$(day_of 40)
echo "camera notes" >"$VIDEO_DIR/notes.txt"
cp "$WORK/small.mp4" "$d40/holiday.mp4"                                # no sidecar
cp "$WORK/small.mp4" "$d40/$CAMERA_NAME-$(stamp_of 40 090000).mp4"     # our name, no sidecar
cp "$WORK/small.mp4" "$d40/$CAMERA_NAME-$(stamp_of 40 091000).mp4"     # our name, a foreign sidecar
echo '{"note": "exported for the insurance"}' >"$d40/$CAMERA_NAME-$(stamp_of 40 091000).json"
other=$(old_clip 40 101500 "" "garden")                                # another camera's clip
mkdir -p "$VIDEO_DIR/exports"                                          # not a date folder
cp "$VIDEO_DIR/${aged[0]}.mp4" "$VIDEO_DIR/${aged[0]}.json" "$VIDEO_DIR/exports/"
(cd "$VIDEO_DIR" && find . -path ./.staging -prune -o -type f -print | grep -v "/$CAMERA_NAME-.*\.\(mp4\|jpg\|json\)$" ) >"$WORK/user-files.txt"
for f in "$CAMERA_NAME-$(stamp_of 40 090000).mp4" "$CAMERA_NAME-$(stamp_of 40 091000).mp4" \
    "$CAMERA_NAME-$(stamp_of 40 091000).json"; do
    echo "./$(day_of 40)/$f"
done >>"$WORK/user-files.txt"
echo "./exports/$(basename "${aged[0]}").mp4" >>"$WORK/user-files.txt"
echo "./exports/$(basename "${aged[0]}").json" >>"$WORK/user-files.txt"
sort -u -o "$WORK/user-files.txt" "$WORK/user-files.txt"
(cd "$VIDEO_DIR" && xargs md5sum <"$WORK/user-files.txt") >"$WORK/user-files.md5"
user_before=$(wc -l <"$WORK/user-files.txt")
ours_before=$((${#aged[@]} + ${#recent[@]}))
log "VIDEO_DIR before: $ours_before clips of $CAMERA_NAME, $user_before files of the user's:"
(cd "$VIDEO_DIR" && find . -type f | sort | sed 's/^/    /')

# Every second, the free space of VIDEO_DIR, to prove the floor holds.
(while :; do df -B1 --output=avail "$VIDEO_DIR" | tail -n 1; sleep 0.5; done) >"$WORK/free.log" &
CW_PIDS+=($!)

# 20 s clips (about 3 MB): a clip grows far past the floor between two
# deliveries unless the floor is kept while it is being written.
export RETAIN_DAYS=7 MIN_FREE_PERCENT=$FLOOR MAX_CLIP_SECONDS=20
start_fakecam "$port" --file "$MEDIA/camera.mp4" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
start_camwatch

# At start: everything beyond 7 days goes, with its snapshot and sidecar.
wait_for 30 "retention at start" grep -q 'retention: deleted .* older than 7 days' "$WORK/camwatch.log"
grep 'retention:' "$WORK/camwatch.log"
(cd "$VIDEO_DIR" && md5sum -c --quiet "$WORK/user-files.md5") || fail "retention at start touched a file of the user's"
grep -q "retention: deleted ${#aged[@]} clips .*, oldest $(day_of 40), older than 7 days" \
    "$WORK/camwatch.log" || fail "not the ${#aged[@]} aged clips in one summary line"
for s in "${aged[@]}"; do
    for ext in mp4 jpg json; do
        [ ! -e "$VIDEO_DIR/$s.$ext" ] || fail "$s.$ext is older than 7 days and still there"
    done
done
for s in "${recent[@]}"; do
    [ -e "$VIDEO_DIR/$s.mp4" ] || fail "$s.mp4 is within 7 days and was deleted at start"
done
[ ! -e "$VIDEO_DIR/$(day_of 20)" ] || fail "the emptied date folder $(day_of 20) is still there"
[ ! -e "$VIDEO_DIR/$(day_of 10)" ] || fail "the emptied date folder $(day_of 10) is still there"
[ -d "$d40" ] || fail "the date folder $d40 held the user's files and was removed"

# Then the floor: new clips fill the disk, the oldest go to keep 40 % free.
saved() { grep -c 'clip saved:' "$WORK/camwatch.log" || true; }
freed() { grep -o 'retention: deleted [0-9]* clips\? ([^)]*), oldest [0-9-]*, to keep '"$FLOOR"'% free' \
    "$WORK/camwatch.log" | awk '{s += $3} END {print s + 0}'; }
enough() { [ "$(saved)" -ge 5 ] && [ "$(freed)" -ge 4 ]; }
wait_for 300 "5 new clips and 4 deleted for free space" enough
kill -TERM "$CAMWATCH_PID"
rc=0
wait "$CAMWATCH_PID" || rc=$?
[ $rc = 0 ] || fail "camwatch exited with $rc after SIGTERM, want 0"
grep 'retention: deleted' "$WORK/camwatch.log" | sed 's/^/    /'

! grep -q 'No space left on device' "$WORK/camwatch.log" || fail "the disk filled: retention came too late"
grep -q 'clip saved:' "$WORK/camwatch.log" || fail "no clip was saved"
for c in $(clips); do
    case "$c" in */$CAMERA_NAME-*) ;; *) continue ;; esac
    [ -e "${c%.mp4}.json" ] || continue # the user's sidecar-less look-alike
    check_playable "$c"
done

# The oldest went first: what is left of ours is the newest clips, all of
# them delivered by this run, and they are the last ones saved.
for s in "${recent[@]}"; do
    [ ! -e "$VIDEO_DIR/$s.json" ] || fail "$s is among the oldest but was kept for free space"
done
grep -o 'clip saved: [^ ]*' "$WORK/camwatch.log" | cut -d' ' -f3 >"$WORK/saved.txt"
find "$VIDEO_DIR" -path "$VIDEO_DIR/.staging" -prune -o -path "$VIDEO_DIR/exports" -prune -o \
    -name "$CAMERA_NAME-*.json" -print | sed 's/\.json$/.mp4/' | sort >"$WORK/kept.txt"
# Our sidecar-bearing look-alike of the user's is not ours: leave it out.
grep -v "/$CAMERA_NAME-$(stamp_of 40 091000)\.mp4$" "$WORK/kept.txt" >"$WORK/kept-ours.txt" || true
kept=$(wc -l <"$WORK/kept-ours.txt")
[ "$kept" -ge 2 ] || fail "only $kept clips kept"
tail -n "$kept" "$WORK/saved.txt" | sort | diff - "$WORK/kept-ours.txt" >"$WORK/kept.diff" ||
    fail "the clips kept are not the newest ones saved: $(cat "$WORK/kept.diff")"

# The floor held while clips were written (0.5 MB of slack: the free space
# is looked at every second while a clip grows).
size=$(df -B1 --output=size "$VIDEO_DIR" | tail -n 1)
floor=$((size * FLOOR / 100))
min_free=$(sort -n "$WORK/free.log" | head -n 1)
log "free space: at least $min_free bytes of $size (floor $floor)"
[ "$min_free" -ge $((floor - 512 * 1024)) ] || fail "free space fell to $min_free bytes, floor $floor"

# The user's files: all there, byte for byte; no empty date folder left.
(cd "$VIDEO_DIR" && md5sum -c --quiet "$WORK/user-files.md5") || fail "a file of the user's changed or vanished"
user_after=$(cd "$VIDEO_DIR" && md5sum -c "$WORK/user-files.md5" 2>/dev/null | grep -c ': OK$')
empty=$(find "$VIDEO_DIR" -mindepth 1 -maxdepth 1 -type d -empty -name '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')
[ -z "$empty" ] || fail "empty date folders left: $empty"
[ -e "$VIDEO_DIR/$other.json" ] || fail "the other camera's clip is gone"

deleted_start=${#aged[@]}
deleted_free=$(freed)
log "retention summary"
printf '    %-34s %s\n' \
    "clips of $CAMERA_NAME before" "$ours_before" \
    "deleted at start (older than 7 d)" "$deleted_start" \
    "new clips saved" "$(saved)" \
    "deleted to keep $FLOOR% free" "$deleted_free" \
    "clips kept at the end" "$kept" \
    "user files kept byte-identical" "$user_after of $user_before"
log "VIDEO_DIR after:"
(cd "$VIDEO_DIR" && find . -path ./.staging -prune -o -type f -print | sort | sed 's/^/    /')
log ok
