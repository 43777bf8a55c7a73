#!/usr/bin/env bash
# What the per-path accounting (paths=on, issue 22) adds to one end of one MPTCP connection, measured inside one JVM
# in a tight loop on real MPTCP connections over loopback (agent/src/test/java/mptcp/agent/paths/LookCost.java):
# the agent's whole work per connection end (follow it, its last look as it closes, its bytes added), the kernel's
# getsockopt(MPTCP_FULL_INFO) alone through the same native layer, and a getsockopt(SO_PROTOCOL), the floor of any
# system call. No second JVM, no scheduling of a churn: the figure a churn ratio is too noisy to resolve here.
#
#   bench/paths-cost.sh [ROUNDS] [MILLIS_PER_ROUND]     (defaults 10 and 1000; about 40 s per JDK)
#
# Environment: JDKS="java17-home java25-home ..." (default: the two JDKs of this machine, whichever exist).
# Needs: Linux 6.5+ with MPTCP enabled in this network namespace. Builds the agent module's test classes with Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-10}
MILLIS=${2:-1000}
if [ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null || echo 0)" != 1 ]; then
  echo "MPTCP is not enabled in this network namespace (sysctl -w net.mptcp.enabled=1)" >&2; exit 1
fi
mkdir -p bench/target
mvn -B -q -DskipTests install -pl native,agent -am
mvn -B -q -pl agent test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/bench/target/agent-test.classpath"
CP=agent/target/test-classes:agent/target/classes:$(cat bench/target/agent-test.classpath)
JDKS=${JDKS:-"/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64"}
for home in $JDKS; do
  [ -x "$home/bin/java" ] || continue
  echo "== $("$home/bin/java" -version 2>&1 | head -1)"
  "$home/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" mptcp.agent.paths.LookCost "$ROUNDS" "$MILLIS"
done
