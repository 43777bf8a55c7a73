#!/usr/bin/env bash
# Netty connection churn (issue 24: Netty on loopback at plain-Netty speed), variants A and B in paired, interleaved
# runs (A B, B A, ...), per JDK, Netty version and transport; prints a markdown table with the medians of each side and
# of the per-pair ratios B/A (connections/s, CPU time per connection), the load average around each row, and, for the
# default A/B, whether the targets are met (rate >= 0.97x, CPU <= 1.05x). Details: bench/netty_churn.py.
#
#   bench/netty-churn.sh [--no-build]
#
# Environment:
#   JDKS="home1 home2"                     default: the JDK 17 and 25 of this machine
#   TRANSPORTS="4.2:epoll 4.2:io_uring 4.1:epoll"    (also 4.2:nio: Netty over the JDK's channels, the agent's JDK path)
#   PAIRS=7 WARMUP=20000 COUNT=2000 BATCHES=5  per run: WARMUP connections (the JIT done with the agent's code), then
#                                              the median of BATCHES batches of COUNT
#   BIND=127.0.0.1 HOST=127.0.0.1          loopback: the listener's address, the address connected to
#   CONNECT=bootstrap|register             Bootstrap.connect() (the destination known when the socket is made), or
#                                          register() then connect() as gRPC and Reactor Netty do
#   NS=1                                   client and server JVMs in two network namespaces over a veth (as root):
#                                          connections to another host, MPTCP under the agent
#   A="" B="-javaagent:agent/target/mptcp-agent.jar"   JVM options of each variant ('|' separates options, so that
#                                                      an option may contain spaces: a rule)
#   BENCH_NICE=-10                         as root, the measured JVMs' niceness (0: unchanged)
#   TEST_CLASSES=dir                       it-tests' compiled classes from a copy (a rebuild cannot disturb the run)
# Every run also appends its raw figures (each pair) to bench/target/netty-churn.jsonl, to pool the pairs of runs.
# Default: plain Netty (A) against the agent with its defaults (B: loopback=tcp, every connection and the listener on
# 127.0.0.1 kept plain TCP by the rules). Connections to another host under two agent builds (before/after a change):
#   NS=1 A="-javaagent:/tmp/before.jar" B="-javaagent:agent/target/mptcp-agent.jar" bench/netty-churn.sh
# Not a test; noisy on a shared machine: compare the paired ratios, look at the load column, rerun on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
mkdir -p bench/target
if [ "${1:-}" != --no-build ] || [ ! -s bench/target/netty-churn.classpath ]; then
  mvn -B -q -o -DskipTests package dependency:build-classpath -pl it-tests -am \
      -Dmdep.outputFile="$ROOT/bench/target/netty-churn.classpath"
fi
exec python3 bench/netty_churn.py
