#!/usr/bin/env python3
"""Connects through a middlebox that drops MPTCP SYNs (issue 23): the kernel alone vs the agent's connect race.

Two network namespaces made here (mpab-<pid>-s, -c; deleted at the end, also on failure or a signal), one veth. The
server namespace has a good address and a blackholed one: iptables there drops every SYN carrying TCP option 30
(MPTCP) to it. A server JVM under the agent (MPTCP listeners, Churn's accept-and-close) listens on both. The client
namespace keeps the kernel's defaults (syn_retrans_before_tcp_fallback=2, blackhole_timeout=3600), or
blackhole_timeout=0 for the rows that say so. A client JVM (bench/src/Dial) dials good, blackholed, good, ... ROUNDS
times with one of:
  kernel alone   mptcpize run java ...                  (the same as the agent before issue 23, race=off)
  agent          java -javaagent:mptcp-agent.jar ...    (race=on, the default)
Per row: the first connect to the blackholed address, the median of the later ones, how many connections to the
good address made after that first one were MPTCP (the server namespace's MPTcpExtMPCapableSYNRX), and whether the
kernel turned MPTCP off in the client namespace (MPTcpExtBlackhole). Between rows the client namespace's blackhole
state is reset (writing net.mptcp.blackhole_timeout resets it, net/mptcp/ctrl.c).

  bench/blackhole.py --jar agent/target/mptcp-agent.jar --classes bench/target/apps.jar [--java JAVA] [--rounds N]

bench/run.sh --blackhole builds what it needs and runs this.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time

NS_PREFIX = "mpab-"
CLIENT_IP, GOOD, BLACKHOLED = "10.79.0.100", "10.79.0.1", "10.79.0.2"


def sh(cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def counter(ns, name):
    out = sh(["ip", "netns", "exec", ns, "nstat", "-a", "-s", "-z", name])
    m = re.search(r"^%s\s+(\d+)" % name, out, re.M)
    return int(m.group(1)) if m else 0


class Bed:
    def __init__(self):
        pid = os.getpid()
        self.server, self.client = "%s%d-s" % (NS_PREFIX, pid), "%s%d-c" % (NS_PREFIX, pid)
        self.made = []
        for ns in (self.server, self.client):
            sh(["ip", "netns", "add", ns])
            self.made.append(ns)
        vs, vc = "mpab%ds" % pid, "mpab%dc" % pid
        sh(["ip", "link", "add", vs, "netns", self.server, "type", "veth", "peer", "name", vc, "netns", self.client])
        for a in (GOOD, BLACKHOLED):
            self.ex(self.server, "ip", "addr", "add", a + "/24", "dev", vs)
        self.ex(self.client, "ip", "addr", "add", CLIENT_IP + "/24", "dev", vc)
        for ns, dev in ((self.server, vs), (self.client, vc)):
            self.ex(ns, "ip", "link", "set", dev, "up")
            self.ex(ns, "ip", "link", "set", "lo", "up")
        self.ex(self.server, "iptables", "-A", "INPUT", "-d", BLACKHOLED, "-p", "tcp", "--syn", "-m", "tcp",
                "--tcp-option", "30", "-j", "DROP")

    def ex(self, ns, *cmd):
        return sh(["ip", "netns", "exec", ns] + list(cmd))

    def close(self):
        for ns in reversed(self.made):
            sh(["ip", "netns", "del", ns], check=False)
        self.made = []


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jar", required=True)
    p.add_argument("--classes", required=True, help="jar or directory with Churn and Dial")
    p.add_argument("--java", default="java")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/blackhole.py makes network namespaces: run it as root")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: (_ for _ in ()).throw(SystemExit(128 + s)))
    bed = Bed()
    server = None
    try:
        server = subprocess.Popen(["ip", "netns", "exec", bed.server, a.java, "-javaagent:" + a.jar, "-cp", a.classes,
                                   "Churn", "serve", "0.0.0.0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = re.match(r"port (\d+)", server.stdout.readline()).group(1)
        clients = [("kernel alone (mptcpize run)", ["mptcpize", "run", a.java]),
                   ("agent, race=off (the agent before issue 23)", [a.java, "-javaagent:%s=race=off" % a.jar]),
                   ("agent (race=on, default)", [a.java, "-javaagent:" + a.jar])]
        print("| client namespace | client | first connect to the blackholed address | later connects there (median)"
              " | connections to the good address after it that are MPTCP | kernel turned MPTCP off (MPTcpExtBlackhole) |")
        print("|---|---|---|---|---|---|")
        for timeout in ("3600", "0"):
            for name, prefix in clients:
                bed.ex(bed.client, "sysctl", "-q", "-w", "net.mptcp.blackhole_timeout=" + timeout)  # also resets
                syn = counter(bed.server, "MPTcpExtMPCapableSYNRX")
                hole = counter(bed.client, "MPTcpExtBlackhole")
                t0 = time.time()
                out = bed.ex(bed.client, *(prefix + ["-cp", a.classes, "Dial", port, str(a.rounds), GOOD, BLACKHOLED]))
                dials = [(h, float(ms)) for h, ms in re.findall(r"^DIAL (\S+) ([0-9.]+)", out, re.M)]
                if len(dials) != 2 * a.rounds:
                    raise RuntimeError("%s: %d dials: %s" % (name, len(dials), out))
                bad = [ms for h, ms in dials if h == BLACKHOLED]
                # good connections made after the first blackholed one: every good one but the first
                mptcp_after = counter(bed.server, "MPTcpExtMPCapableSYNRX") - syn - 1
                print("| defaults%s | %s | %.0f ms | %.1f ms | %d of %d | %s |" % (
                    "" if timeout == "3600" else ", blackhole_timeout=0", name, bad[0], statistics.median(bad[1:]),
                    max(0, mptcp_after), a.rounds - 1, "yes" if counter(bed.client, "MPTcpExtBlackhole") > hole else "no"),
                    flush=True)
                print("   (%s: %.1f s, dials %s)" % (name, time.time() - t0, " ".join("%.0f" % ms for _, ms in dials)),
                      file=sys.stderr, flush=True)
    finally:
        if server:
            server.stdin.close()
            server.wait(10)
        bed.ex(bed.client, "sysctl", "-q", "-w", "net.mptcp.blackhole_timeout=3600") if bed.made else None
        bed.close()


if __name__ == "__main__":
    main()
