#!/usr/bin/env bash
# Dual-path benchmark (root): rate-limits both paths of the 4-namespace topology, then prints single-path TCP
# throughput, the agent's MPTCP throughput over both paths and their ratio, and the failover stall of the agent's
# JVMs next to mptcpize'd ncat/nc peers. Everything it creates is removed at the end.
#   bench/dual-path.sh [-Dbench.rate=40mbit] [-Dbench.seconds=6]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/dual-path.sh: run as root (it creates network namespaces)" >&2; exit 1; }
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
if [ ! -f agent/target/mptcp-agent.jar ] || [ ! -f it-tests/target/test-classes/mptcp/it/dualpath/DualPathBench.class ]; then
  mvn -B -q -DskipTests package
fi
echo "machine: $(nproc) cores, kernel $(uname -r), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
exec "$JAVA_HOME/bin/java" "$@" -Dagent.jar="$PWD/agent/target/mptcp-agent.jar" \
  -cp it-tests/target/test-classes:agent/target/classes mptcp.it.dualpath.DualPathBench
