#!/usr/bin/env bash
# camwatch-mqtt against a real Mosquitto broker (started here on 127.0.0.1
# with a password file) and the test camera playing footage with two short
# motion events: availability online and the Last Will offline (SIGKILL of
# the stage; the supervisor restarts it alone), motion ON latency from the
# event's first motion frame (printed), event start and end with paths
# that exist, the retained snapshot decoding as JPEG, Home Assistant
# discovery payloads against the keys Home Assistant requires, control
# topics honoured by detect and record (and kept over a restart of detect),
# a broker restart during an event loses no `end`, a wrong password gives
# one clear line per RETRY_SECONDS, and --forget clears the discovery.
source "$(dirname "$0")/lib.sh"
t0=$SECONDS

prepare_media
# Plate, people walking for 5 s, plate: one event per loop.
src=$(vtest_avi) || exit 1
FOOTAGE=$MEDIA/mqtt-events.mp4
if [ ! -s "$FOOTAGE" ]; then
    ffmpeg -loglevel error -y -loop 1 -framerate 10 -t 8 -i "$MEDIA/plate.png" -ss 20 -t 5 -i "$src" \
        -loop 1 -framerate 10 -t 9 -i "$MEDIA/plate.png" -filter_complex \
        "[0:v]format=yuv420p,setsar=1[a];[1:v]fps=10,format=yuv420p,setsar=1,setpts=PTS-STARTPTS[b];[2:v]format=yuv420p,setsar=1[c];[a][b][c]concat=n=3:v=1[v]" \
        -map '[v]' -c:v libx264 -preset veryfast -g 10 -keyint_min 10 -sc_threshold 0 -bf 0 \
        -an "$FOOTAGE.tmp.mp4"
    mv "$FOOTAGE.tmp.mp4" "$FOOTAGE"
fi

# --- the broker ---------------------------------------------------------------
bport=$(test_port 1883)
MQ_USER=camwatch MQ_PASS='Mq-Secret9'
mosquitto_passwd -b -c "$WORK/passwd" "$MQ_USER" "$MQ_PASS" >/dev/null 2>&1 ||
    { : >"$WORK/passwd"; mosquitto_passwd -b "$WORK/passwd" "$MQ_USER" "$MQ_PASS"; }
# TLS on a second listener, from a CA made here.
tport=$(test_port 8883)
(
    cd "$WORK"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=camwatch test CA" \
        -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.pem
) >"$WORK/openssl.log" 2>&1 || fail "cannot make the test certificates: $(cat "$WORK/openssl.log")"
cat >"$WORK/mosquitto.conf" <<CONF
allow_anonymous false
password_file $WORK/passwd
# Persistence keeps the observer's session (and the QoS 1 messages queued
# for it) over the broker restart below: camwatch-mqtt may reconnect and
# deliver an event's end before the observer is back.
persistence true
persistence_location $WORK/
user $(id -un)
listener $bport 127.0.0.1
listener $tport 127.0.0.1
cafile $WORK/ca.pem
certfile $WORK/server.pem
keyfile $WORK/server.key
CONF
BROKER_PID=
start_broker() {
    mosquitto -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
    BROKER_PID=$!
    CW_PIDS+=("$BROKER_PID")
    wait_for 10 "mosquitto on port $bport" bash -c "exec 3<>/dev/tcp/127.0.0.1/$bport"
}
stop_broker() {
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
}
start_broker
sub=(-h 127.0.0.1 -p "$bport" -u "$MQ_USER" -P "$MQ_PASS")

# One clip per event (the footage's events last 5 s and 2 s after).
export MAX_CLIP_SECONDS=30
camwatch_env
T=camwatch/$CAMERA_NAME
# Every message but the snapshot's (binary), one a line: receive time, topic,
# payload; a persistent QoS 1 session, kept by the broker over its restart.
observe=(mosquitto_sub "${sub[@]}" -i "observer-$CAMERA_NAME" -c -q 1 -v -F '%U %t %p'
    -t "$T/availability" -t "$T/motion" -t "$T/event" -t "$T/state" -t "homeassistant/#")
"${observe[@]}" >"$WORK/messages.txt" 2>"$WORK/sub.log" &
SUB_PID=$!
CW_PIDS+=("$SUB_PID")
sleep 0.3

port=$(test_port 19300)
start_fakecam "$port" --file "$FOOTAGE" --loop
export RTSP_URL="rtsp://127.0.0.1:$port/cam"
export MQTT_URL="mqtt://$MQ_USER:$MQ_PASS@127.0.0.1:$bport"
start_camwatch

# messages TOPIC: payloads received on TOPIC so far.
messages() { awk -v t="$1" '$2 == t { $1 = ""; $2 = ""; sub(/^  /, ""); print }' "$WORK/messages.txt"; }
events() { messages "$T/event" | jq -c "select(.type == \"$1\")"; }
count_events() { events "$1" | wc -l; }

# --- availability ------------------------------------------------------------
wait_for 20 "availability online" sh -c "grep -q '^[0-9.]* $T/availability online\$' '$WORK/messages.txt'"
log "availability: online"

# --- discovery ---------------------------------------------------------------
wait_for 10 "six discovery configs" sh -c "[ \$(grep -c ' homeassistant/.*/config ' '$WORK/messages.txt') -ge 6 ]"
grep ' homeassistant/.*/config ' "$WORK/messages.txt" | cut -d' ' -f2- |
    /usr/bin/python3 -c '
import json, sys
base = sys.argv[1]
# Home Assistant MQTT discovery: what each platform requires, and what it
# takes for the entities to form one device that follows the availability.
required = {"binary_sensor": ["state_topic"], "image": ["image_topic"],
            "switch": ["command_topic"], "sensor": ["state_topic"]}
seen = {}
for line in sys.stdin:
    topic, payload = line.rstrip("\n").split(" ", 1)
    parts = topic.split("/")
    assert len(parts) == 5 and parts[0] == "homeassistant" and parts[4] == "config", topic
    comp = parts[1]
    c = json.loads(payload)
    for k in required[comp] + ["unique_id", "name", "device", "availability_topic"]:
        assert k in c, (topic, k)
    assert c["device"]["identifiers"], topic
    assert c["availability_topic"] == base + "/availability", c
    seen[(comp, parts[3])] = c
want = {("binary_sensor", "motion"), ("image", "snapshot"), ("switch", "detect"),
        ("switch", "record"), ("sensor", "last_clip"), ("sensor", "disk_free")}
assert want <= set(seen), sorted(seen)
assert seen[("binary_sensor", "motion")]["state_topic"] == base + "/motion"
assert seen[("binary_sensor", "motion")]["device_class"] == "motion"
assert seen[("image", "snapshot")]["image_topic"] == base + "/snapshot"
assert seen[("switch", "detect")]["command_topic"] == base + "/detect/set"
assert seen[("switch", "record")]["command_topic"] == base + "/record/set"
assert seen[("sensor", "last_clip")]["device_class"] == "timestamp"
assert len({json.dumps(c["device"], sort_keys=True) for c in seen.values()}) == 1, "one device"
print(len(seen), "discovery configs with the required keys, one device")
' "$T" || fail "discovery payloads lack what Home Assistant requires"

# --- event 1: motion ON latency, start, end with paths, snapshot --------------
wait_for 30 "motion ON" sh -c "grep -q '^[0-9.]* $T/motion ON\$' '$WORK/messages.txt'"
on_at=$(grep -m1 "^[0-9.]* $T/motion ON\$" "$WORK/messages.txt" | cut -d' ' -f1)
wait_for 5 "event start" sh -c "[ \$(grep -c '\"type\":\"start\"' '$WORK/messages.txt') -ge 1 ]"
start=$(events start | head -n 1 | jq -r .start)
latency=$(/usr/bin/python3 -c '
import sys, datetime
on, start = float(sys.argv[1]), datetime.datetime.fromisoformat(sys.argv[2]).timestamp()
print(f"{on - start:.3f}")' "$on_at" "$start")
log "motion ON $latency s after the first motion frame (target <= 1 s)"
/usr/bin/python3 -c 'import sys; sys.exit(float(sys.argv[1]) > 1.0)' "$latency" ||
    fail "motion ON came $latency s after the first motion frame, more than 1 s"

wait_for 30 "motion OFF" sh -c "grep -q '^[0-9.]* $T/motion OFF\$' '$WORK/messages.txt'"
wait_for 15 "event end" sh -c "[ \$(grep -c '\"type\":\"end\"' '$WORK/messages.txt') -ge 1 ]"
end=$(events end | head -n 1)
for k in clip snapshot sidecar; do
    p=$(jq -r ".$k" <<<"$end")
    [ -s "$p" ] || fail "event end: $k \"$p\" does not exist: $end"
done
[ "$(jq -r .id <<<"$end")" = "$(events start | head -n 1 | jq -r .id)" ] || fail "start and end ids differ"
[ "$(jq '.boxes | length' <<<"$end")" -ge 1 ] || fail "event end has no boxes: $end"
clip=$(jq -r .clip <<<"$end")
log "event 1 ended with $clip (peak $(jq .peak_changed_percent <<<"$end") %)"
mosquitto_sub "${sub[@]}" -C 1 -W 5 -N -t "$T/snapshot" >"$WORK/snapshot.jpg" || fail "no retained snapshot"
out=$(ffmpeg -v error -i "$WORK/snapshot.jpg" -f null - 2>&1) && [ -z "$out" ] ||
    fail "the retained snapshot does not decode: $out"
[ "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$WORK/snapshot.jpg")" = mjpeg ] ||
    fail "the retained snapshot is not a JPEG"
cmp -s "$WORK/snapshot.jpg" "$(jq -r .snapshot <<<"$end")" || fail "the snapshot is not the event's"
log "retained snapshot: a JPEG of $(stat -c %s "$WORK/snapshot.jpg") bytes, the event's"

# --- Last Will: SIGKILL the stage ---------------------------------------------
mqtt_pid=$(stage_pid mqtt)
[ -n "$mqtt_pid" ] || fail "no camwatch-mqtt under the supervisor"
kill -KILL "$mqtt_pid"
wait_for 10 "availability offline (the Will)" sh -c "grep -q '^[0-9.]* $T/availability offline\$' '$WORK/messages.txt'"
wait_for 15 "availability online again" sh -c "[ \$(grep -c '^[0-9.]* $T/availability online\$' '$WORK/messages.txt') -ge 2 ]"
new_pid=$(stage_pid mqtt)
[ -n "$new_pid" ] && [ "$new_pid" != "$mqtt_pid" ] || fail "camwatch-mqtt was not restarted"
for st in capture detect record; do
    grep -q "started camwatch-$st pid=.*restart" "$WORK/camwatch.log" && fail "camwatch-$st was restarted too"
done
log "SIGKILL: offline by the Will, online again (pid $mqtt_pid -> $new_pid), no other stage restarted"

# --- control topics: detect ---------------------------------------------------
mosquitto_pub "${sub[@]}" -t "$T/detect/set" -m OFF
wait_for 5 "state echoes detect OFF" sh -c \
    "grep ' $T/state ' '$WORK/messages.txt' | tail -n 1 | grep -q '\"detect\":\"OFF\",\"record\":\"ON\"'"
wait_for 5 "detect honours the pause" grep -q "camwatch-detect.*detection paused" "$WORK/camwatch.log"
# The pause lives in the events ring: a restarted detect keeps it.
kill -KILL "$(stage_pid detect)"
wait_for 10 "detect restarted, still paused" sh -c "[ \$(grep -c 'camwatch-detect.*detection paused' '$WORK/camwatch.log') -ge 2 ]"
mosquitto_pub "${sub[@]}" -t "$T/detect/set" -m ON
wait_for 5 "detection resumed" grep -q "camwatch-detect.*detection resumed" "$WORK/camwatch.log"
wait_for 5 "state echoes detect ON" sh -c \
    "grep ' $T/state ' '$WORK/messages.txt' | tail -n 1 | grep -q '\"detect\":\"ON\"'"
log "control: detection paused and resumed, echoed on state, the pause kept over a detect restart"

# --- record paused during event 2, and a broker restart mid-event ---------------
mosquitto_pub "${sub[@]}" -t "$T/record/set" -m OFF
wait_for 5 "state echoes record OFF" sh -c \
    "grep ' $T/state ' '$WORK/messages.txt' | tail -n 1 | grep -q '\"record\":\"OFF\"'"
clips_before=$(clip_count)
starts=$(count_events start)
wait_for 40 "event 2 starts" sh -c "[ \$(grep -c '\"type\":\"start\"' '$WORK/messages.txt') -gt $starts ]"
stop_broker
kill -TERM "$SUB_PID" 2>/dev/null || true
id2=$(events start | tail -n 1 | jq -r .id)
log "broker stopped during event $id2"
# The event ends while the broker is away: its end waits in the outbox.
wait_for 20 "event 2 ending while the broker is down" grep -q "camwatch-mqtt.*event $id2 ended" "$WORK/camwatch.log"
start_broker
"${observe[@]}" >>"$WORK/messages.txt" 2>>"$WORK/sub.log" &
SUB_PID=$!
CW_PIDS+=("$SUB_PID")
wait_for 30 "event 2's end after the broker returned" sh -c \
    "grep ' $T/event ' '$WORK/messages.txt' | grep '\"type\":\"end\"' | grep -q '\"id\":\"$id2\"'"
end2=$(events end | grep "\"id\":\"$id2\"" | tail -n 1)
grep -q "connected to the MQTT broker .* again" "$WORK/camwatch.log" || fail "no reconnect logged"
log "broker restart: event $id2 ended while the broker was down; its end arrived when it came back"
# Recording was paused: motion came, no clip was made, and the end says so.
grep -q "camwatch-record.*recording paused" "$WORK/camwatch.log" || fail "record did not see the pause"
[ "$(jq -r .clip <<<"$end2")" = null ] || fail "event 2 has a clip while recording was paused: $end2"
[ "$(clip_count)" = "$clips_before" ] || fail "a clip was recorded while recording was paused: $(clips)"
mosquitto_pub "${sub[@]}" -t "$T/record/set" -m ON
wait_for 5 "state echoes record ON" sh -c \
    "grep ' $T/state ' '$WORK/messages.txt' | tail -n 1 | grep -q '\"record\":\"ON\"'"
log "control: no clip for event 2 while recording was paused; resumed, echoed on state"

# --- wrong password: one clear line per RETRY_SECONDS --------------------------
MQTT_URL="mqtt://$MQ_USER:wrong-pass@127.0.0.1:$bport" RETRY_SECONDS=1 \
    timeout -s TERM 3.5 "$BIN/camwatch-mqtt" >"$WORK/wrong.log" 2>&1 || true
lines=$(grep -c "refused camwatch-mqtt" "$WORK/wrong.log" || true)
[ "$lines" -ge 2 ] && [ "$lines" -le 4 ] || fail "wrong password: $lines refusal lines in 3.5 s, want 2 to 4: $(cat "$WORK/wrong.log")"
grep -q "wrong-pass" "$WORK/wrong.log" && fail "the wrong password is printed"
grep -q "$MQ_PASS" "$WORK/camwatch.log" && fail "the password is printed in camwatch.log"
log "wrong password: $lines lines in 3.5 s: $(grep -m1 refused "$WORK/wrong.log" | cut -c1-200)"

# --- mqtts:// with MQTT_CA_FILE (by hand, with --forget: it needs no rings) ------
tls=(env MQTT_URL="mqtts://$MQ_USER:$MQ_PASS@127.0.0.1:$tport" RETRY_SECONDS=1)
"${tls[@]}" MQTT_CA_FILE="$WORK/ca.pem" "$BIN/camwatch-mqtt" --forget >"$WORK/tls.log" 2>&1 ||
    fail "mqtts:// with MQTT_CA_FILE did not connect: $(cat "$WORK/tls.log")"
grep -q "connected to the MQTT broker 127.0.0.1:$tport (TLS)" "$WORK/tls.log" || fail "no TLS connection: $(cat "$WORK/tls.log")"
# Without the test CA the broker's certificate is not trusted.
"${tls[@]}" "$BIN/camwatch-mqtt" --forget >"$WORK/tls-untrusted.log" 2>&1 &&
    fail "mqtts:// connected to a broker whose certificate no CA of the system signed"
grep -q "connected to the MQTT broker" "$WORK/tls-untrusted.log" && fail "connected without the CA"
log "mqtts://: connected with MQTT_CA_FILE; refused without it: $(grep -m1 'cannot reach' "$WORK/tls-untrusted.log" | cut -c1-160)"

# --- --forget ---------------------------------------------------------------------
"$BIN/camwatch-mqtt" --forget >"$WORK/forget.log" 2>&1 || fail "--forget failed: $(cat "$WORK/forget.log")"
left=$(mosquitto_sub "${sub[@]}" -W 1 -v -t "homeassistant/+/camwatch_$CAMERA_NAME/+/config" 2>/dev/null | wc -l || true)
[ "$left" = 0 ] || fail "--forget left $left retained discovery configs"
log "--forget: no retained discovery config left"

log "passed in $((SECONDS - t0)) s"
