#!/usr/bin/env bash
# Live listener hand-over benchmark (issue 11): per server model and JDK, a server JVM started WITHOUT the agent in one
# network namespace, and two client JVMs in another (over a veth: plain TCP, and MPTCP through the agent in
# mode=client), each with 2 threads opening a fresh connection + one HTTP request every ~1 ms for LOAD_S seconds.
# In the middle of the load:
#   handover: `attach <pid>` (the default listeners=convert) — connections attempted/failed while the load ran, the
#             hand-over time the agent reports per listener and its window (new connections steered to the MPTCP
#             listener until everything waiting on the old one moved over), the attach command's wall time;
#   naive:    `attach <pid> listeners=keep` first (new sockets become MPTCP), then the application closes its listener
#             and opens it again (ListenerApp "reopen") — the same counts, and the close+reopen time (the window in
#             which the port has no listener).
# Not a test: prints a markdown table. Root (network namespaces); the namespaces get random names and are removed
# on exit. Traffic stays inside them.
#
#   bench/listeners.sh [--no-build]        env: JDKS="home1 home2", MODELS="socket selector ...", LOAD_S=4, ROUNDS=1
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/listeners.sh: needs root (network namespaces)" >&2; exit 1; }
mkdir -p bench/target
if [ "${1:-}" != --no-build ] || [ ! -s bench/target/listeners.classpath ]; then
  # the agent jar, and the test apps (ListenerApp, LoadClient) with their libraries (Jetty) as the it-tests run them
  mvn -B -q -o -DskipTests package dependency:build-classpath -pl it-tests -am \
      -Dmdep.outputFile="$ROOT/bench/target/listeners.classpath"
fi
AGENT=$ROOT/agent/target/mptcp-agent.jar
CLASSES=$ROOT/it-tests/target/test-classes:$(tr ':' '\n' < bench/target/listeners.classpath | grep -v -E '/(agent|native)/target/' | paste -sd:)
JDKS=${JDKS:-"/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64"}
LOAD_S=${LOAD_S:-4}
ROUNDS=${ROUNDS:-1}

SUFFIX=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
S=mpa-lb-s-$SUFFIX
C=mpa-lb-c-$SUFFIX
WORK=$(mktemp -d)
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  ip netns del "$S" 2>/dev/null || true
  ip netns del "$C" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$S"; ip netns add "$C"
ip -n "$S" link set lo up; ip -n "$C" link set lo up
ip -n "$S" link add vs type veth peer name vc netns "$C"
ip -n "$S" addr add 10.232.0.1/24 dev vs; ip -n "$C" addr add 10.232.0.2/24 dev vc
ip -n "$S" link set vs up; ip -n "$C" link set vc up

wait_for() { # file pattern
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timeout waiting for '$2' in $1:" >&2; cat "$1" >&2; return 1
}

# one_run JAVA MODEL WAY -> prints "attempted failed handover_ms wall_ms"
one_run() {
  local java=$1 model=$2 way=$3 port=$((8000 + RANDOM % 1000))
  rm -f "$WORK"/in.*
  mkfifo "$WORK/in.s" "$WORK/in.t" "$WORK/in.m"
  ip netns exec "$S" "$java" -cp "$CLASSES" mptcp.it.servers.ListenerApp "$model" 10.232.0.1 "$port" \
      < "$WORK/in.s" > "$WORK/s.out" 2>&1 &
  exec 7> "$WORK/in.s"
  wait_for "$WORK/s.out" READY
  local pid
  pid=$(ip netns exec "$S" ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  if [ "$way" = naive ]; then
    "$java" -jar "$AGENT" attach "$pid" listeners=keep > "$WORK/a.out" 2>&1
  fi
  ip netns exec "$C" "$java" -cp "$CLASSES" mptcp.it.servers.LoadClient load 10.232.0.1 "$port" 2 1 60 \
      < "$WORK/in.t" > "$WORK/t.out" 2>&1 &
  exec 8> "$WORK/in.t"
  ip netns exec "$C" "$java" "-javaagent:$AGENT=mode=client" -cp "$CLASSES" mptcp.it.servers.LoadClient load 10.232.0.1 "$port" 2 1 60 \
      < "$WORK/in.m" > "$WORK/m.out" 2>&1 &
  exec 9> "$WORK/in.m"
  wait_for "$WORK/t.out" RUNNING; wait_for "$WORK/m.out" RUNNING
  sleep $((LOAD_S / 2))
  local t0 t1 handover window
  t0=$(date +%s%N)
  if [ "$way" = handover ]; then
    "$java" -jar "$AGENT" attach "$pid" > "$WORK/a.out" 2>&1
    handover=$(grep -o 'converted to MPTCP in [0-9]*' "$WORK/a.out" | grep -o '[0-9]*$' || echo "-")
    window=$(grep -o '([0-9]* ms from steering' "$WORK/a.out" | grep -o '[0-9]*' || echo "-")
  else
    echo reopen >&7
    wait_for "$WORK/s.out" REOPENED
    handover=$(grep -o 'REOPENED [0-9]*' "$WORK/s.out" | grep -o '[0-9]*$')
    window=$handover # closed to reopened: the port refuses connections meanwhile
  fi
  t1=$(date +%s%N)
  sleep $((LOAD_S / 2))
  echo stop >&8; echo stop >&9
  wait_for "$WORK/t.out" RESULT; wait_for "$WORK/m.out" RESULT
  local mptcp_listen
  mptcp_listen=$(ip netns exec "$S" ss -HMltn "sport = :$port" | grep -c '^mptcp' || true)
  echo bye >&7
  exec 7>&- 8>&- 9>&-
  wait
  rm -f "$WORK"/in.*
  local att=0 fail=0
  for f in t m; do
    att=$((att + $(grep -o 'attempted=[0-9]*' "$WORK/$f.out" | cut -d= -f2)))
    fail=$((fail + $(grep -o 'failed=[0-9]*' "$WORK/$f.out" | cut -d= -f2)))
  done
  echo "$att $fail $handover $window $(( (t1 - t0) / 1000000 )) $mptcp_listen"
}

MODELS_DEFAULT="socket timed selector httpserver jetty tomcat vthread async"
echo "| JDK | server model | way | connections attempted | failed | hand-over (ms, in the JVM) | window (ms) | command wall time (ms) | MPTCP listener after |"
echo "|---|---|---|---:|---:|---:|---:|---:|---|"
for home in $JDKS; do
  java=$home/bin/java
  [ -x "$java" ] || { echo "skipping missing JDK $home" >&2; continue; }
  feature=$("$java" -XshowSettings:properties -version 2>&1 | awk -F= '/java.specification.version/{gsub(/ /,"",$2); print $2}')
  for model in ${MODELS:-$MODELS_DEFAULT}; do
    if [ "$model" = vthread ] && [ "$feature" -lt 21 ]; then continue; fi
    for way in handover naive; do
      for _ in $(seq "$ROUNDS"); do
        read -r att fail ms window wall listen <<< "$(one_run "$java" "$model" "$way")"
        echo "| $feature | $model | $way | $att | $fail | $ms | $window | $wall | $([ "${listen:-0}" -ge 1 ] && echo yes || echo no) |"
      done
    done
  done
done
