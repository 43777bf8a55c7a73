#!/usr/bin/env bash
# Netty connection churn over loopback (issue 12: the rules on Netty's native transports). One JVM per run, client and
# server in it (it-tests' NettyChurn): WARMUP connections, then BATCHES batches of COUNT measured ones (the median
# batch counts), each connection connect + accept + close, one at a time; prints connections/s and the process's CPU time per connection (user + system: what the agent adds,
# less disturbed by other work on the machine than the rate). Two variants, A and B, in paired interleaved runs
# (A B, then B A, ...), per JDK and transport; the table gives the medians of each and the medians of the per-pair
# ratios B/A.
#
#   bench/netty-churn.sh [--no-build]
#
# Environment:
#   JDKS="home1 home2"                     default: the JDK 17 and 25 of this machine
#   TRANSPORTS="4.2:epoll 4.2:io_uring 4.1:epoll"    (also 4.2:nio: Netty over the JDK's channels, the agent's JDK path)
#   PAIRS=7 WARMUP=1000 COUNT=2000 BATCHES=5 BIND=127.0.0.1 HOST=127.0.0.1
#   A="" B="-javaagent:agent/target/mptcp-agent.jar"   JVM options of each variant ('|' separates options, so that
#                                                      an option may contain spaces: a rule)
# Default: plain Netty (A) against the agent with its defaults (B: loopback=tcp, every connection and the listener on
# 127.0.0.1 kept plain TCP by the rules). For a connection that stays MPTCP under two agent builds:
#   A="-javaagent:/tmp/before.jar=loopback=mptcp,rules=tcp connect 10.0.0.0/8" \
#   B="-javaagent:agent/target/mptcp-agent.jar=loopback=mptcp,rules=tcp connect 10.0.0.0/8" bench/netty-churn.sh
# Not a test; noisy on a shared machine (compare the paired ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
mkdir -p bench/target
if [ "${1:-}" != --no-build ] || [ ! -s bench/target/netty-churn.classpath ]; then
  mvn -B -q -o -DskipTests package dependency:build-classpath -pl it-tests -am \
      -Dmdep.outputFile="$ROOT/bench/target/netty-churn.classpath"
fi
export CP42=$ROOT/it-tests/target/test-classes:$(tr ':' '\n' < bench/target/netty-churn.classpath | grep -v -E '/(agent|native)/target/' | paste -sd:)
export CP41=$ROOT/it-tests/target/test-classes:$(ls "$ROOT"/it-tests/target/netty41/*.jar | paste -sd:)
export JDKS=${JDKS:-"/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64"}
export TRANSPORTS=${TRANSPORTS:-"4.2:epoll 4.2:io_uring 4.1:epoll"}
export PAIRS=${PAIRS:-7} WARMUP=${WARMUP:-1000} COUNT=${COUNT:-2000} BATCHES=${BATCHES:-5} BIND=${BIND:-127.0.0.1} HOST=${HOST:-127.0.0.1}
export A=${A-} B=${B-"-javaagent:$ROOT/agent/target/mptcp-agent.jar"}
exec python3 - <<'EOF'
import os, statistics, subprocess

def run(java, options, cp, transport):
    cmd = [java] + [o for o in options.split("|") if o] + ["-cp", cp, "mptcp.it.servers.NettyChurn", transport,
           os.environ["BIND"], os.environ["HOST"], os.environ["WARMUP"], os.environ["COUNT"], os.environ["BATCHES"]]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    keys = ("connections/s", "cpu_us_per_connection", "loop_cpu_us_per_connection")
    r = {l.split()[0]: float(l.split()[1]) for l in out.stdout.splitlines() if l.split() and l.split()[0] in keys}
    if len(r) != 3:
        raise SystemExit("no result from %s:\n%s\n%s" % (" ".join(cmd), out.stdout, out.stderr))
    return tuple(r[k] for k in keys)

a, b = os.environ["A"], os.environ["B"]
print("A: %s" % (a or "(no agent)"))
print("B: %s" % (b or "(no agent)"))
print("pairs %s, %s warm-up connections then the median of %s batches of %s per run, bind %s, connect %s\n"
      % (os.environ["PAIRS"], os.environ["WARMUP"], os.environ["BATCHES"], os.environ["COUNT"], os.environ["BIND"],
         os.environ["HOST"]))
print("| JDK | Netty | transport | A conn/s | B conn/s | rate B/A | rate B/A per pair | A CPU µs/conn | B CPU µs/conn | CPU B/A "
      "| A loop µs/conn | B loop µs/conn | loop B/A |")
print("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
for home in os.environ["JDKS"].split():
    java = os.path.join(home, "bin", "java")
    if not os.path.exists(java):
        continue
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.split('"')[1]
    for t in os.environ["TRANSPORTS"].split():
        netty, transport = t.split(":")
        cp = os.environ["CP41"] if netty == "4.1" else os.environ["CP42"]
        xs, ys = [], []
        for i in range(int(os.environ["PAIRS"])):
            if i % 2 == 0:
                x = run(java, a, cp, transport); y = run(java, b, cp, transport)
            else:
                y = run(java, b, cp, transport); x = run(java, a, cp, transport)
            xs.append(x); ys.append(y)
        m = statistics.median
        col = lambda rows, k: [r[k] for r in rows]
        ratio = lambda k: [y[k] / x[k] for x, y in zip(xs, ys)]
        print("| %s | %s | %s | %.0f | %.0f | %.2f | %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |" % (version, netty,
              transport, m(col(xs, 0)), m(col(ys, 0)), m(ratio(0)), " ".join("%.2f" % r for r in ratio(0)),
              m(col(xs, 1)), m(col(ys, 1)), m(ratio(1)), m(col(xs, 2)), m(col(ys, 2)), m(ratio(2))), flush=True)
EOF
