#!/usr/bin/env bash
# mptcp-agent benchmark: start-up, AppCDS, connection churn, bulk throughput (agent vs no agent / vs mptcpize)
# on loopback, connection churn between two network namespaces (as root; skipped otherwise), Netty's native
# transports (connection churn against plain Netty on loopback, and between the namespaces) and per-socket creation
# cost (JMH), on JDK 17 and JDK 25. Prints a markdown table; also written to bench/target/results.md (+ .json).
#
#   bench/run.sh [--quick] [--no-build] [--baseline-jar PATH] [--startup | --netty | --ns-pair | --blackhole | --paths]
#
# --startup: only the start-up rows (against the empty -javaagent; issue 13's targets), a few minutes.
# --netty: only the Netty rows (issue 24's targets; bench/netty-churn.sh measures the same with more choices).
# --ns-pair: only the namespace-pair churn rows (with --baseline-jar: the before/after row of a change).
# --blackhole: only bench/blackhole.py (the kernel alone vs the connect race through a middlebox that drops MPTCP
# SYNs, issue 23), first JDK only, a minute.
# --paths: only the per-path accounting's cost (issue 22): paths=on vs paths=off, loopback churn and bulk, and the
# namespace-pair churn.
# --baseline-jar PATH: another agent jar (e.g. built from an older commit) for a namespace-pair row "agent vs
# baseline agent"; this script never builds it.
#
# Environment: JDKS="java17-home java25-home ..." (default: the two JDKs of this machine, whichever exist).
# Needs: Linux with MPTCP (net.mptcp.enabled=1), python3, mptcpize (installed here with apt-get when missing, as root).
# Timings are noisy when other work runs on the machine: every row uses paired, interleaved runs; see docs/performance.md.
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."
ROOT=$(pwd)
QUICK=()
BUILD=1
BASELINE=()
ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=(--quick) ;;
    --no-build) BUILD=0 ;;
    --startup) ONLY=(--only startup) ;;
    --netty) ONLY=(--only netty) ;;
    --ns-pair) ONLY=(--only ns-pair) ;;
    --blackhole) ONLY=(blackhole) ;;
    --paths) ONLY=(--only paths) ;;
    --baseline-jar)
      [ $# -ge 2 ] || { echo "--baseline-jar needs a path" >&2; exit 2; }
      case "$2" in /*) jar=$2 ;; *) jar=$CALLER_DIR/$2 ;; esac
      [ -f "$jar" ] || { echo "--baseline-jar: no such file: $2" >&2; exit 2; }
      BASELINE=(--baseline-jar "$jar"); shift ;;
    *) echo "usage: bench/run.sh [--quick] [--no-build] [--baseline-jar PATH] [--startup | --netty | --ns-pair | --blackhole | --paths]" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v mptcpize >/dev/null; then
  echo "installing mptcpize (Debian package mptcpize)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mptcpize >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
if [ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null || echo 0)" != 1 ]; then
  echo "MPTCP is not enabled in this network namespace (sysctl -w net.mptcp.enabled=1)" >&2; exit 1
fi

JDKS=${JDKS:-"/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64"}
JAVAS=()
for home in $JDKS; do
  if [ -x "$home/bin/java" ]; then JAVAS+=(--java "$home/bin/java"); else echo "skipping missing JDK $home" >&2; fi
done
[ ${#JAVAS[@]} -gt 0 ] || { echo "no JDK found in JDKS=$JDKS" >&2; exit 1; }
FIRST_JDK=$(echo "$JDKS" | awk '{print $1}')

OUT=$ROOT/bench/target
mkdir -p "$OUT/classes"
if [ $BUILD = 1 ]; then
  echo "building the agent and the JMH benchmarks" >&2
  mvn -B -q -DskipTests package
  # the Netty rows' program (it-tests' NettyChurn) and its class path
  mvn -B -q -DskipTests package dependency:build-classpath -pl it-tests -am \
      -Dmdep.outputFile="$ROOT/bench/target/netty-churn.classpath"
  mvn -B -q -f bench/jmh/pom.xml package
fi
JAR=$ROOT/agent/target/mptcp-agent.jar
JMH=$ROOT/bench/jmh/target/benchmarks.jar
[ -f "$JAR" ] || { echo "missing $JAR (run without --no-build)" >&2; exit 1; }
JAVAC=$FIRST_JDK/bin/javac
command -v "$JAVAC" >/dev/null 2>&1 || JAVAC=javac
"$JAVAC" --release 17 -d "$OUT/classes" bench/src/*.java
# a jar, not a directory: AppCDS archives only classes from jars
rm -f "$OUT/apps.jar"
"$(dirname "$JAVAC")/jar" cf "$OUT/apps.jar" -C "$OUT/classes" .

# the floor row: a -javaagent whose premain does nothing
mkdir -p "$OUT/noop"
"$JAVAC" --release 17 -d "$OUT/noop" bench/noop-agent/NoopAgent.java
printf 'Premain-Class: NoopAgent\n' > "$OUT/noop/manifest.txt"
rm -f "$OUT/noop-agent.jar"
"$(dirname "$JAVAC")/jar" cfm "$OUT/noop-agent.jar" "$OUT/noop/manifest.txt" -C "$OUT/noop" NoopAgent.class

if [ "${ONLY[*]}" = blackhole ]; then
  command -v iptables >/dev/null || { echo "--blackhole needs iptables" >&2; exit 1; }
  exec python3 bench/blackhole.py --jar "$JAR" --classes "$OUT/apps.jar" --java "$FIRST_JDK/bin/java" \
    $([ ${#QUICK[@]} -gt 0 ] && echo --rounds 3)
fi

JMH_ARG=()
[ -f "$JMH" ] && JMH_ARG=(--jmh "$JMH")
exec python3 bench/bench.py --jar "$JAR" --classes "$OUT/apps.jar" --empty-agent "$OUT/noop-agent.jar" "${JMH_ARG[@]}" "${JAVAS[@]}" \
  --out "$OUT/results.md" "${QUICK[@]}" "${BASELINE[@]}" "${ONLY[@]}"
