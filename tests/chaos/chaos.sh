#!/usr/bin/env bash
# Chaos: camwatch against faults injected at random moments, then checked
# for what it promises: nothing lost, nothing broken, nothing left behind.
#   tests/chaos/chaos.sh [SECONDS]   faults for SECONDS (default 150); `make
#                                    soak` gives 3600. CHAOS_SEED=N replays a run.
#
# The test camera loops footage whose motion is known by construction:
# cycles of a motion-free plate (8 s) and people walking (6 s). An observer
# (ffmpeg, a second client of the same camera stream) stamps every picture
# it receives with the wall clock and knows it by its decoded MD5, so the
# motion stretches the camera really played are known in wall time,
# whatever the faults did to the stream.
#
# Faults, one at a time, every 5 to 11 s, from a seeded generator: SIGKILL
# and SIGTERM of capture, detect, record and http; SIGSTOP of a stage for
# 3 to 6 s (a hang); the camera killed and restarted; the camera stopped
# for 4 s (a stall); VIDEO_DIR's filesystem (a tmpfs) full for 4 s; the
# supervisor SIGKILLed and started again, as systemd would. After each, the
# pipeline must be healthy again (every stage running and beating, the
# camera online, packets flowing) within 40 s: that is its recovery time.
#
# Checked afterwards: every file in VIDEO_DIR is a complete clip that
# decodes, with its snapshot and sidecar (check_video_dir); every motion
# stretch that played away from the faults (a fault's window: from the
# fault to its recovery, and 2 s around it; http's faults have none, as
# http is off the data path) lies within clips; nothing is left in the
# staging folder or in /dev/shm once camwatch stopped; the memory and file
# descriptors of stages that lived long did not grow.
#
# Printed: the seed, faults by kind, clips, stretches covered / expected,
# recovery time by fault kind (median and worst), each long-lived process's
# memory and descriptors at its start, middle and end.
source "$(dirname "$0")/../e2e/lib.sh"

CHAOS_SECONDS=${1:-${CHAOS_SECONDS:-150}}
seed=${CHAOS_SEED:-$(($(date +%s) % 100000))}
RANDOM=$seed
log "chaos: seed $seed (CHAOS_SEED=$seed draws the same faults again), $CHAOS_SECONDS s of faults"

[ "$(id -u)" = 0 ] || fail "chaos needs root to mount the tmpfs that fills up (run as root or in CI)"
command -v flock >/dev/null || fail "flock missing (util-linux)"

# --- footage: plate / walk cycles, every picture known -----------------
prepare_media
SET=$MEDIA/chaos-v1.mp4
SET_LABELS=$MEDIA/chaos-v1.labels
build_set() {
    [ -s "$SET" ] && [ -s "$SET_LABELS" ] && return 0
    local src
    src=$(vtest_avi) || exit 1
    log "building the chaos footage (once)"
    local -a args=()
    local chains="" labels="" n=0 from
    for from in 4 22 40 58; do
        args+=(-loop 1 -framerate 10 -t 8 -i "$MEDIA/plate.png" -ss "$from" -t 6 -i "$src")
        chains+="[$n:v]fps=10,format=yuv420p,setsar=1,setpts=PTS-STARTPTS,noise=c0s=6:allf=t:all_seed=$((n + 1))[s$n];"
        chains+="[$((n + 1)):v]fps=10,format=yuv420p,setsar=1,setpts=PTS-STARTPTS[s$((n + 1))];"
        labels+="[s$n][s$((n + 1))]"
        n=$((n + 2))
    done
    ffmpeg -loglevel error -y "${args[@]}" -filter_complex "${chains}${labels}concat=n=$n:v=1:a=0[v]" \
        -map '[v]' -c:v libx264 -preset veryfast -g 10 -keyint_min 10 -sc_threshold 0 -bf 0 \
        -an "$SET.tmp.mp4"
    # One label per picture: q (plate) or m (motion), by its place in a cycle.
    ffmpeg -loglevel error -i "$SET.tmp.mp4" -f framemd5 - | grep -v '^#' |
        awk -F', *' '{ f = NR - 1; print $6, ((f % 140) < 80 ? "q" : "m") }' >"$SET_LABELS.tmp"
    mv "$SET_LABELS.tmp" "$SET_LABELS"
    mv "$SET.tmp.mp4" "$SET"
}
(
    flock 9
    build_set
) 9>"$MEDIA/.chaos.lock"

# --- VIDEO_DIR on a small tmpfs, so that it can be filled --------------
camwatch_env
mkdir -p "$VIDEO_DIR"
mount -t tmpfs -o size=96m camwatch-chaos "$VIDEO_DIR" || fail "cannot mount a tmpfs on $VIDEO_DIR"
CW_CLEANUP+=("umount -l '$VIDEO_DIR'")
# The free-space floor would delete clips to make room while the disk is
# filled on purpose: off, so that a full disk is met for real.
export MIN_FREE_PERCENT=0
export LOGLEVEL=INFO

port=$(test_port 19600)
hport=$(test_port 19650)
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
export HTTP_LISTEN="127.0.0.1:$hport"

start_camera() {
    : >"$WORK/fakecam.log.now"
    "$BIN/camwatch-fakecam" --port "$port" --path /cam --file "$SET" --loop >>"$WORK/fakecam.log.now" 2>&1 &
    FAKECAM_PID=$!
    CW_PIDS+=("$FAKECAM_PID")
    wait_for 20 "test camera on port $port" grep -q "serving rtsp://127.0.0.1:$port" "$WORK/fakecam.log.now"
    cat "$WORK/fakecam.log.now" >>"$WORK/fakecam.log"
}
start_camera

# The observer: every picture the camera sends, stamped with the wall clock.
observe() {
    while :; do
        # -timeout: a camera gone or stalled ends this client (3 s), and the
        # loop connects again.
        ffmpeg -loglevel error -rtsp_transport tcp -timeout 3000000 -i "$RTSP_URL" -map 0:v -f framemd5 \
            -flush_packets 1 - 2>/dev/null |
            python3 -u -c '
import sys, time
for line in sys.stdin:
    if not line.startswith("#"):
        print("%.3f %s" % (time.time(), line.rsplit(",", 1)[-1].strip()), flush=True)'
        sleep 0.3
    done
}
observe >>"$WORK/observed.txt" &
CW_PIDS+=($!)

start_supervisor() {
    "$BIN/camwatch" >>"$WORK/camwatch.log" 2>&1 &
    CAMWATCH_PID=$!
    CW_PIDS+=("$CAMWATCH_PID")
}
start_supervisor

# --- health, and the processes sampled along the way --------------------
: >"$WORK/samples.txt"
# healthy: every stage running and beating, the camera online, packets
# flowing since the last look. Samples each stage's memory and descriptors.
cat >"$WORK/healthy.py" <<'PY'
import json, os, sys, time
s = json.load(sys.stdin)
last, samples, pubf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stages = {x["name"]: x for x in s["stages"]}
want = ["camwatch-capture", "camwatch-detect", "camwatch-record", "camwatch-http"]
pub = [r["published"] for r in s["rings"] if r["ring"] == "packets"][0]
open(pubf, "w").write(str(int(pub)))
now = time.time()
procs = [(n, stages.get(n, {}).get("pid") or 0) for n in want] + [("camwatch", s["supervisor"]["pid"])]
with open(samples, "a") as f:
    for name, pid in procs:
        try:
            rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("RssAnon:")][0].split()[1]
            f.write(f"{now:.1f} {name} {pid} {rss} {len(os.listdir(f'/proc/{pid}/fd'))}\n")
        except (OSError, IndexError):
            pass
def beats(n):
    age = stages.get(n, {}).get("heartbeat_age_seconds")
    return stages.get(n, {}).get("state") == "running" and age is not None and age < 3
sys.exit(0 if all(beats(n) for n in want) and s["camera_state"]["online"] and pub > last else 1)
PY
last_published=0
healthy() {
    local out rc=0
    out=$("$BIN/camwatch" status --json 2>/dev/null) || return 1
    python3 "$WORK/healthy.py" "$last_published" "$WORK/samples.txt" "$WORK/published" <<<"$out" || rc=$?
    last_published=$(cat "$WORK/published" 2>/dev/null || echo 0)
    return $rc
}

# wait_healthy KIND: seconds until healthy again, in RECOVERY_S; or fail.
# (Not printed for a $(...): a fail in a subshell would lose its message.)
wait_healthy() {
    local t0 end
    t0=$(date +%s.%N)
    end=$((SECONDS + 40))
    while ! healthy; do
        [ $SECONDS -lt $end ] || fail "not healthy 40 s after the fault '$1': $("$BIN/camwatch" status 2>&1 | head -n 12)"
        sleep 0.25
    done
    # Packets flowing means two looks: the first one after the fault only
    # sets the mark.
    sleep 0.25
    while ! healthy; do
        [ $SECONDS -lt $end ] || fail "not healthy 40 s after the fault '$1'"
        sleep 0.25
    done
    RECOVERY_S=$(python3 -c "import time; print('%.2f' % (time.time() - $t0))")
}

wait_for 30 "camwatch healthy at start" healthy
sleep 0.3
wait_for 10 "packets flowing at start" healthy
log "camwatch healthy; faults begin"

# --- faults -------------------------------------------------------------
: >"$WORK/faults.txt" # kind start end recovery_s window(0/1)
stages=(capture detect record http)
declare -A kills_at
# pick N: a number below N in $R, from the seeded generator (never in a
# subshell, where bash would draw from another seed).
pick() { R=$((RANDOM % $1)); }
# idle SECONDS: wait, sampling the processes every second.
idle() {
    local end=$((SECONDS + $1))
    while [ $SECONDS -lt $end ]; do
        healthy || true
        sleep 1
    done
}
now() { date +%s.%N; }

fault() {
    local kind=$1 start end pid rec window=1 st
    start=$(now)
    case "$kind" in
    kill-* | term-*)
        st=${kind#*-}
        pid=$(stage_pid "$st")
        [ -n "$pid" ] || fail "no camwatch-$st to signal"
        if [ "${kind%%-*}" = kill ]; then kill -KILL "$pid"; else kill -TERM "$pid"; fi
        [ "$st" = http ] && window=0
        ;;
    hang-*)
        st=${kind#hang-}
        pid=$(stage_pid "$st")
        [ -n "$pid" ] || fail "no camwatch-$st to stop"
        kill -STOP "$pid"
        pick 4
        sleep $((3 + R))
        kill -CONT "$pid"
        [ "$st" = http ] && window=0
        ;;
    camera-restart)
        kill -KILL "$FAKECAM_PID"
        wait "$FAKECAM_PID" 2>/dev/null || true
        pick 3
        sleep $((1 + R))
        start_camera
        ;;
    camera-stall)
        kill -STOP "$FAKECAM_PID"
        sleep 4
        kill -CONT "$FAKECAM_PID"
        ;;
    disk-full)
        dd if=/dev/zero of="$VIDEO_DIR/filler" bs=1M 2>/dev/null || true
        sleep 4
        rm -f "$VIDEO_DIR/filler"
        ;;
    supervisor-kill)
        kill -KILL "$CAMWATCH_PID"
        wait "$CAMWATCH_PID" 2>/dev/null || true
        # Its stages get SIGTERM from the kernel and stop; systemd starts
        # camwatch again after RestartSec (the unit's 2 s).
        sleep 2
        start_supervisor
        ;;
    esac
    end=$(now)
    wait_healthy "$kind"
    rec=$RECOVERY_S
    echo "$kind $start $end $rec $window" >>"$WORK/faults.txt"
    log "fault $kind: recovered in ${rec}s"
}

kinds=()
for st in "${stages[@]}"; do kinds+=("kill-$st" "term-$st" "hang-$st"); done
kinds+=(camera-restart camera-stall disk-full supervisor-kill)
chaos_end=$((SECONDS + CHAOS_SECONDS))
while [ $SECONDS -lt "$chaos_end" ]; do
    pick 7
    idle $((5 + R))
    pick ${#kinds[@]}
    kind=${kinds[$R]}
    # Five abnormal deaths of one stage within a minute stop camwatch by
    # design (the crash-loop breaker): chaos stays under it.
    case "$kind" in kill-* | hang-*)
        st=${kind#*-}
        recent=0
        for t in ${kills_at[$st]:-}; do [ $((SECONDS - t)) -lt 60 ] && recent=$((recent + 1)); done
        [ $recent -lt 3 ] || kind=camera-stall
        [ "$kind" = camera-stall ] || kills_at[$st]="${kills_at[$st]:-} $SECONDS"
        ;;
    esac
    fault "$kind"
done
# The last stretch in progress gets its clip.
idle 20
# Motion still playing when camwatch stops is judged up to the stop.
date +%s.%N >"$WORK/stopped.txt"
kill -TERM "$CAMWATCH_PID"
rc=0
wait "$CAMWATCH_PID" || rc=$?
[ $rc = 0 ] || fail "camwatch exited with $rc after SIGTERM"
stop_fakecam

# --- the checks ---------------------------------------------------------
check_video_dir "$WORK/camwatch.log"
left=$(find "$VIDEO_DIR/.staging" -type f 2>/dev/null | head -n 5)
[ -z "$left" ] || fail "left in the staging folder after the stop: $left"
left=$(ls /dev/shm | grep -F "camwatch.$CAMERA_NAME." || true)
[ -z "$left" ] || fail "rings left behind after the stop: $left"

python3 - "$SET_LABELS" "$WORK/observed.txt" "$WORK/faults.txt" "$VIDEO_DIR" "$WORK/samples.txt" \
    "$(cat "$WORK/stopped.txt")" <<'PY' || fail "chaos checks failed (above)"
import collections, datetime, glob, json, os, statistics, sys
labels_f, observed_f, faults_f, video, samples_f, stopped = sys.argv[1:]
stopped = float(stopped)
label = {}
for line in open(labels_f):
    md5, l = line.split()
    label.setdefault(md5, l)
# Motion stretches the camera played, in wall time (observer's clock): runs
# of motion pictures with no gap over 1 s.
stretches, cur = [], None
for line in open(observed_f):
    parts = line.split()
    if len(parts) != 2 or parts[1] not in label:
        continue
    t, l = float(parts[0]), label[parts[1]]
    if l == "m":
        if cur and t - cur[1] <= 1.0:
            cur[1] = t
        else:
            if cur:
                stretches.append(cur)
            cur = [t, t]
    elif cur:
        stretches.append(cur)
        cur = None
if cur:
    stretches.append(cur)
# What played after camwatch was told to stop is no one's to record.
stretches = [[s[0], min(s[1], stopped)] for s in stretches if s[0] < stopped]
stretches = [s for s in stretches if s[1] - s[0] >= 2.0]  # cut by the observer's restarts or the stop: too short to judge

faults = [l.split() for l in open(faults_f)]
windows = [(float(f[1]) - 2, float(f[2]) + float(f[3]) + 2) for f in faults if f[4] == "1"]

def when(s):
    return datetime.datetime.fromisoformat(s).timestamp()
clips = []
for p in glob.glob(os.path.join(video, "*", "*.json")):
    s = json.load(open(p))
    clips.append((when(s["start"]), when(s["end"])))
clips.sort()

def covered(a, b):
    # [a, b] within the union of the clips, 0.3 s of slack at each join.
    t = a
    for s, e in clips:
        if s <= t + 0.3 and e > t:
            t = e
        if t >= b - 0.3:
            return True
    return False

expected = [s for s in stretches if not any(w0 < s[1] and s[0] < w1 for w0, w1 in windows)]
# Detection needs MIN_MOTION_FRAMES analysed frames: the first second of a
# stretch may precede its clip's pre-roll only if the pre-roll is short.
missed = [s for s in expected if not covered(s[0] + 1.0, s[1])]

kinds = collections.Counter(f[0] for f in faults)
print("faults injected:", len(faults))
for k in sorted(kinds):
    rec = sorted(float(f[3]) for f in faults if f[0] == k)
    print(f"  {k:16s} {kinds[k]:3d}  recovery median {statistics.median(rec):5.2f} s, worst {rec[-1]:5.2f} s")
print("clips:", len(clips))
print(f"motion stretches: {len(stretches)} played, {len(expected)} away from faults, "
      f"{len(expected) - len(missed)} of {len(expected)} covered by clips")
for s in missed:
    print("  MISSED: stretch %s - %s" % (datetime.datetime.fromtimestamp(s[0]).strftime("%T.%f")[:-3],
                                         datetime.datetime.fromtimestamp(s[1]).strftime("%T.%f")[:-3]))

# Long-lived processes: private memory (RssAnon: the rings are shared
# mappings, and a reader touching more of one is no growth) and
# descriptors at the start (10 s in), the middle and the end: growth that
# levels off shows between start and middle only, a leak in both halves.
by_pid = collections.defaultdict(list)
for line in open(samples_f):
    t, name, pid, rss, fds = line.split()
    by_pid[(name, pid)].append((float(t), int(rss), int(fds)))
grew = []
print("long-lived processes (over 30 s sampled): RssAnon KiB and descriptors, start -> middle -> end")
for (name, pid), xs in sorted(by_pid.items()):
    xs = [x for x in xs if x[0] >= xs[0][0] + 10]
    if len(xs) < 2 or xs[-1][0] - xs[0][0] < 30:
        continue
    (t0, r0, f0), (t1, r1, f1) = xs[0], xs[-1]
    # The sample nearest the middle of the process's sampled time.
    _, rm, fm = min(xs, key=lambda x: abs(x[0] - (t0 + t1) / 2))
    print(f"  {name:18s} pid {pid:>7s} {t1 - t0:6.0f} s  rss {r0} -> {rm} -> {r1}  fds {f0} -> {fm} -> {f1}")
    if r1 - r0 > 16 * 1024 or f1 - f0 > 4:
        grew.append(f"{name} pid {pid}: rss {r0} -> {r1} KiB, fds {f0} -> {f1}")
bad = False
if len(expected) < 2:
    print(f"only {len(expected)} motion stretches away from faults: too few to judge")
    bad = True
if missed:
    bad = True
for g in grew:
    print("  GREW:", g)
    bad = True
sys.exit(1 if bad else 0)
PY
log "chaos: seed $seed: ok"
