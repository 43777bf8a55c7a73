#!/usr/bin/env bash
# Fleet benchmark (issue 20). Not a test: prints markdown tables and the machine's load. Root (a network namespace
# of its own for the JVMs attached to, so that their listeners touch nothing else; removed on exit).
#   1. The attach transport: wall time of one attach + one request ("properties") per JVM, first attach of a JVM
#      (its attach listener started by SIGQUIT) and a second one, for mptcp-agent's own client of HotSpot's protocol
#      (cli.attach), the JDK's VirtualMachine (jdk.attach) and byte-buddy-agent's own protocol (+ JNA), rounds
#      interleaved, fresh JVMs per method and round; and what each adds to a jar.
#   2. `attach --all` for N JVMs (agent loaded, listeners converted) against N sequential `attach <pid>` commands.
#   3. `attach --all --watch` CPU time (user+sys, /proc/PID/stat) idle for IDLE_S seconds, and while SHORT short-lived
#      JVMs (3 s each) start within a minute and are attached to; scaled to an hour.
# Only the JVMs this script starts are selected (--include a marker of this run).
#   bench/fleet.sh            env: JAVA=java N=20 ROUNDS=3 PER=5 IDLE_S=60 SHORT=100
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/fleet.sh: needs root" >&2; exit 1; }
AGENT=$ROOT/agent/target/mptcp-agent.jar
[ -s "$AGENT" ] || mvn -B -q -DskipTests package
JAVA=${JAVA:-java}
N=${N:-20}; ROUNDS=${ROUNDS:-3}; PER=${PER:-5}; IDLE_S=${IDLE_S:-60}; SHORT=${SHORT:-100}
M2=${HOME}/.m2/repository
BBA=$M2/net/bytebuddy/byte-buddy-agent/1.14.12/byte-buddy-agent-1.14.12.jar
JNA=$M2/net/java/dev/jna/jna/5.17.0/jna-5.17.0.jar
[ -s "$BBA" ] || mvn -B -q dependency:get -Dartifact=net.bytebuddy:byte-buddy-agent:1.14.12
[ -s "$JNA" ] || mvn -B -q dependency:get -Dartifact=net.java.dev.jna:jna:5.17.0
WORK=$(mktemp -d)
MARK=fleetbench$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
NS=mpa-fb-$MARK
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  jobs -p | xargs -r kill 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"; ip -n "$NS" link set lo up
mkdir -p "$WORK/classes"
javac -d "$WORK/classes" -cp "$BBA" bench/fleet/*.java
CP=$WORK/classes

# start_jvms COUNT TAG -> pids in $STARTED (each JVM: Idle, one wildcard listener, marker -Dmark=TAG)
start_jvms() {
  STARTED=()
  local i
  for i in $(seq "$1"); do
    ip netns exec "$NS" "$JAVA" -XX:TieredStopAtLevel=1 -Xss256k -Xmx32m -Dmark="$2" -cp "$CP" Idle > "$WORK/$2.$i" 2>&1 &
    STARTED+=($!); PIDS+=($!)
  done
  for i in $(seq "$1"); do
    for _ in $(seq 400); do grep -q READY "$WORK/$2.$i" 2>/dev/null && break; sleep 0.05; done
  done
}
stop_jvms() { for p in "$@"; do kill "$p" 2>/dev/null || true; done; wait "$@" 2>/dev/null || true; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ms() { date +%s%N | cut -c1-13; }

echo "# bench/fleet.sh on $(uname -r), $(nproc) cores, $($JAVA -version 2>&1 | head -1)"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# 1. transports
: > "$WORK/transport"
for r in $(seq "$ROUNDS"); do
  order="own jdk bytebuddy"; [ $((r % 3)) = 2 ] && order="jdk bytebuddy own"; [ $((r % 3)) = 0 ] && order="bytebuddy own jdk"
  for m in $order; do
    start_jvms "$PER" "$MARK-t$r$m"
    pids=("${STARTED[@]}")
    for pass in first again; do
      "$JAVA" -cp "$CP:$BBA:$JNA" AttachBench "$m" "$AGENT" "${pids[@]}" 2>>"$WORK/transport.err" \
        | awk -v pass=$pass '{print $1, pass, $3}' >> "$WORK/transport" || echo "$m failed: $(tail -1 "$WORK/transport.err")" >&2
    done
    stop_jvms "${pids[@]}"
  done
done
own_size=$(unzip -p "$AGENT" inst/classes.blob >/dev/null 2>&1; cd "$ROOT/agent/target/classes" && cat mptcp/agent/cli/attach/*.class | wc -c)
native_size=$(wc -c < "$ROOT/native/target/classes/mptcp/sys/InRoot.class" 2>/dev/null || echo 0)
echo "## 1. attach + one request, per JVM (ms, median of $((ROUNDS * PER)) JVMs per cell; $ROUNDS interleaved rounds)"
echo
echo "| client | first attach (listener started) | again | vs own (first) | adds to the jar |"
echo "|---|---|---|---|---|"
own_first=$(awk '$1=="own" && $2=="first" {print $3}' "$WORK/transport" | median)
for m in own jdk bytebuddy; do
  f=$(awk -v m=$m '$1==m && $2=="first" {print $3}' "$WORK/transport" | median)
  a=$(awk -v m=$m '$1==m && $2=="again" {print $3}' "$WORK/transport" | median)
  case $m in
    own) size="$(( (own_size + native_size) / 1024 )) KiB of classes (cli.attach + mptcp.sys.InRoot; jnr-ffi is in the jar already)";;
    jdk) size="0 (a JDK module; absent from jlink'd JREs without jdk.attach)";;
    bytebuddy) size="$(( $(wc -c < "$BBA") / 1024 )) KiB byte-buddy-agent + $(( $(wc -c < "$JNA") / 1024 )) KiB JNA";;
  esac
  ratio=$(awk -v a="$f" -v b="$own_first" 'BEGIN { if (a=="-"||b==0) print "-"; else printf "%.2fx", a/b }')
  echo "| $m | $f | $a | $ratio | $size |"
done
echo

# 2. attach --all for N JVMs vs N sequential attach <pid>
start_jvms "$N" "$MARK-all"
allpids=("${STARTED[@]}")
t0=$(ms); "$JAVA" -jar "$AGENT" attach --all --include "mark=$MARK-all" > "$WORK/all.out" 2>&1 || true; t1=$(ms)
active=$(sed -n 's/^Result: \([0-9]*\) of .*/\1/p' "$WORK/all.out")
stop_jvms "${allpids[@]}"
start_jvms "$N" "$MARK-seq"
seqpids=("${STARTED[@]}")
t2=$(ms); for p in "${seqpids[@]}"; do "$JAVA" -jar "$AGENT" attach "$p" > /dev/null 2>&1 || true; done; t3=$(ms)
stop_jvms "${seqpids[@]}"
echo "## 2. the agent into $N JVMs (load + listener hand-over)"
echo
echo "| way | wall | JVMs active |"
echo "|---|---|---|"
echo "| attach --all | $((t1 - t0)) ms | $active of $N |"
echo "| $N x attach <pid>, one after the other | $((t3 - t2)) ms | - |"
echo "| ratio | $(awk -v a=$((t1 - t0)) -v b=$((t3 - t2)) 'BEGIN {printf "%.2fx", a/b}') | |"
echo

# 3. --watch CPU
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, clock ticks (USER_HZ=100)
"$JAVA" -jar "$AGENT" attach --all --watch --include "mark=$MARK-none" > "$WORK/idle.out" 2>&1 &
W=$!; PIDS+=($W)
sleep 5
c0=$(cpu $W); sleep "$IDLE_S"; c1=$(cpu $W)
kill -TERM $W; wait $W || true
procs=$(ls -d /proc/[0-9]* | wc -l)
idle_c=$((c1 - c0))
idle_h=$(awk -v c=$idle_c -v s="$IDLE_S" 'BEGIN {printf "%.1f", c / 100 * 3600 / s}')

"$JAVA" -jar "$AGENT" attach --all --watch --include "mark=$MARK-short" > "$WORK/short.out" 2>&1 &
W=$!; PIDS+=($W)
sleep 5
c0=$(cpu $W); t0=$(ms)
for i in $(seq "$SHORT"); do
  ip netns exec "$NS" "$JAVA" -XX:TieredStopAtLevel=1 -Xmx32m -Dmark="$MARK-short" -cp "$CP" ShortLived 3000 > /dev/null 2>&1 &
  PIDS+=($!)
  sleep "$(awk -v n="$SHORT" 'BEGIN {printf "%.3f", 60 / n}')"
done
wait_until=$(( $(ms) + 8000 )); while [ "$(ms)" -lt $wait_until ]; do sleep 0.5; done
c1=$(cpu $W); t1=$(ms)
kill -TERM $W; wait $W || true
attached=$(grep -c '^JVM .* active' "$WORK/short.out" || true)
exited=$(grep -c 'exited' "$WORK/short.out" || true)
short_h=$(awk -v c=$((c1 - c0)) -v s=$(( (t1 - t0) / 1000 )) 'BEGIN {printf "%.1f", c / 100 * 3600 / s}')
# 3b. --watch latency: from a new JVM being attachable (SIGQUIT caught, /proc/PID/status) to its listener MPTCP (ss)
"$JAVA" -jar "$AGENT" attach --all --watch --include "mark=$MARK-lat" > "$WORK/lat.out" 2>&1 &
W=$!; PIDS+=($W)
sleep 3
: > "$WORK/lat"
for i in $(seq "${LATENCY_JVMS:-8}"); do
  ip netns exec "$NS" "$JAVA" -XX:TieredStopAtLevel=1 -Xmx32m -Dmark="$MARK-lat" -cp "$CP" Idle > "$WORK/lat.$i" 2>&1 &
  p=$!; PIDS+=($p)
  t_ready=""; t_mptcp=""
  for _ in $(seq 600); do
    if [ -z "$t_ready" ] && [ -r /proc/$p/status ] \
        && (( 0x$(awk '/^SigCgt:/ {print $2}' /proc/$p/status) & 4 )); then t_ready=$(ms); fi
    port=$(sed -n 's/READY //p' "$WORK/lat.$i")
    if [ -n "$t_ready" ] && [ -n "$port" ] && ip netns exec "$NS" ss -Mltn | grep -q "^mptcp .*:$port "; then
      t_mptcp=$(ms); break
    fi
    sleep 0.02
  done
  [ -n "$t_mptcp" ] && echo $((t_mptcp - t_ready)) >> "$WORK/lat"
  kill $p 2>/dev/null || true
done
kill -TERM $W; wait $W || true
lat_median=$(median < "$WORK/lat"); lat_max=$(sort -n "$WORK/lat" | tail -1)
echo "## 3. attach --all --watch: from a new JVM attachable to its listener MPTCP"
echo
echo "$(wc -l < "$WORK/lat") JVMs started one after the other: median ${lat_median} ms, max ${lat_max} ms (all: $(tr '\n' ' ' < "$WORK/lat"))"
echo
echo "## 4. attach --all --watch, CPU (user+sys of the watching JVM)"
echo
echo "| case | CPU during the window | per hour at that rate | share of one core |"
echo "|---|---|---|---|"
echo "| idle, $procs processes on the host, ${IDLE_S} s | $(awk -v c=$idle_c 'BEGIN {printf "%.2f s", c / 100}') | ${idle_h} s | $(awk -v i="$idle_h" 'BEGIN {printf "%.3f %%", i / 36}') |"
echo "| $SHORT short-lived JVMs started in 60 s ($attached attached, $exited exited first) | $(awk -v c=$((c1 - c0)) 'BEGIN {printf "%.2f s", c / 100}') | ${short_h} s | $(awk -v i="$short_h" 'BEGIN {printf "%.2f %%", i / 36}') |"
echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
