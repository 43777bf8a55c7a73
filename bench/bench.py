#!/usr/bin/env python3
"""mptcp-agent benchmark driver (run it through bench/run.sh, which builds what it needs).

Every row is measured with paired, interleaved runs: each pair runs the baseline and the agent back to back, the
order alternating from pair to pair, after warm-up runs, so that load from other processes on the machine hits both
sides alike. The per-pair difference (start-up) or ratio (throughput) is what the target is checked on; its
min/median/max are printed. Timing is never asserted in the test suite: this script only reports.
"""
import argparse, json, os, re, select, shutil, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# As root, measured commands run at a higher priority than the rest of the machine (e.g. parallel Maven builds),
# which narrows the spread of paired runs; BENCH_NICE=0 turns this off.
NICE = ["nice", "-n", os.environ.get("BENCH_NICE", "-10")] if os.geteuid() == 0 and os.environ.get("BENCH_NICE", "-10") != "0" else []


def run(cmd, env=None, check=True):
    """Runs cmd; returns (wall ms, None, stdout, stderr)."""
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = p.communicate()
    wall = (time.perf_counter_ns() - t0) / 1e6
    rss = None  # see run_rss for peak RSS
    if check and p.returncode != 0:
        sys.exit("command failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), out.decode(), err.decode()))
    return wall, rss, out.decode(errors="replace"), err.decode(errors="replace")


def run_rss(cmd):
    """Runs cmd with output discarded; returns (wall ms, peak RSS MiB, stderr) using wait4's rusage of the child."""
    with tempfile.TemporaryFile() as errf:
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf)
        _, status, usage = os.wait4(p.pid, 0)
        wall = (time.perf_counter_ns() - t0) / 1e6
        p.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read().decode(errors="replace")
    if p.returncode != 0:
        sys.exit("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), err))
    return wall, usage.ru_maxrss / 1024.0, err, (usage.ru_utime + usage.ru_stime) * 1000.0


def mmm(xs):
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}


def paired(base, cand, runs, warmup, measure):
    """measure(cmd) -> dict of numbers. Returns lists per key for base and cand, interleaved A/B, B/A, ..."""
    for _ in range(warmup):
        measure(base)
        measure(cand)
    b, c = [], []
    for i in range(runs):
        if i % 2 == 0:
            b.append(measure(base))
            c.append(measure(cand))
        else:
            c.append(measure(cand))
            b.append(measure(base))
    return b, c


class Table:
    def __init__(self):
        self.rows = []

    def add(self, jdk, row, unit, base, cand, kind, per_pair, target, met, note=""):
        self.rows.append({"jdk": jdk, "row": row, "unit": unit, "baseline": statistics.median(base),
                          "agent": statistics.median(cand), "kind": kind, "per_pair": mmm(per_pair),
                          "target": target, "met": met, "note": note, "n": len(per_pair), "pairs": list(per_pair)})

    def invalid(self, jdk, row, target, why):
        """A row whose premise (the protocol each side really used) was false, or that could not run: no figure."""
        self.rows.append({"jdk": jdk, "row": row, "kind": "invalid", "target": target, "met": None, "note": why})

    def markdown(self):
        lines = ["| JDK | row | baseline (median) | agent (median) | agent vs baseline, per pair: min / **median** / max | target | met |",
                 "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            if r["kind"] == "invalid":
                lines.append("| %s | %s | – | – | **no figure**: %s | %s | – |" % (r["jdk"], r["row"], r["note"], r["target"]))
                continue
            pp = r["per_pair"]
            if r["kind"] == "diff":
                f = "%+.1f / **%+.1f** / %+.1f %s" % (pp["min"], pp["median"], pp["max"], r["unit"])
            elif r["kind"] == "ratio":
                f = "%.3f× / **%.3f×** / %.3f×" % (pp["min"], pp["median"], pp["max"])
            else:
                f = "%.0f / **%.0f** / %.0f %s" % (pp["min"], pp["median"], pp["max"], r["unit"])
            base = "%.1f %s" % (r["baseline"], r["unit"]) if r["kind"] != "ratio" else "%.2f %s" % (r["baseline"], r["unit"])
            agent = "%.1f %s" % (r["agent"], r["unit"]) if r["kind"] != "ratio" else "%.2f %s" % (r["agent"], r["unit"])
            met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
            lines.append("| %s | %s | %s | %s | %s | %s | %s%s |" % (r["jdk"], r["row"], base, agent, f, r["target"], met,
                                                                  (" " + r["note"]) if r["note"] else ""))
        return "\n".join(lines)


def jdk_name(java):
    err = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "([^"]+)"', err)
    return m.group(1) if m else java


# Namespace-pair rows: a server JVM in one network namespace, a client JVM in another, joined by one veth. The bench
# makes both namespaces itself (unique names: mpab-<pid>-s and -c) and sends traffic only to the addresses it put in
# them; it deletes them at the end, on failure and on SIGINT/SIGTERM/SIGHUP too.
NS_PREFIX = "mpab-"
SERVER_IP, CLIENT_IP = "10.78.0.1", "10.78.0.2"
MAX_CONNECTIONS = 200000  # per client run (warm-up included); each run is also bounded in time


def sh(cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def remove_stale_namespaces():
    """Deletes namespaces left by an earlier run of this bench that was killed outright (SIGKILL): its pid is gone."""
    for line in sh(["ip", "netns", "list"], check=False).splitlines():
        m = re.match(r"(%s(\d+)-[sc])(\s|$)" % NS_PREFIX, line)
        if m and not os.path.exists("/proc/" + m.group(2)):
            print("   removing the namespace %s of an earlier run (pid %s is gone)" % (m.group(1), m.group(2)), flush=True)
            sh(["ip", "netns", "del", m.group(1)], check=False)


def ns_pair_unavailable():
    """Why the namespace-pair rows cannot run here, or None."""
    if os.geteuid() != 0:
        return "not root: the namespace-pair rows create network namespaces (run bench/run.sh as root)"
    if not shutil.which("ip"):
        return "no 'ip' command (iproute2)"
    return None


def counters(text):
    """/proc/net/netstat and /proc/net/snmp (header line, value line) -> {'MPTcpExt:MPCapableSYNRX': n, ...}."""
    c = {}
    lines = text.splitlines()
    for h, v in zip(lines, lines[1:]):
        h, v = h.split(), v.split()
        if len(h) > 1 and len(h) == len(v) and h[0] == v[0] and not h[1].lstrip("-").isdigit():
            for k, x in zip(h[1:], v[1:]):
                c[h[0] + k] = int(x)
    return c


class NsPair:
    """Server namespace (SERVER_IP) and client namespace (CLIENT_IP) over one veth, plus the server JVMs in it."""

    def __init__(self):
        pid = os.getpid()
        self.server, self.client = "%s%d-s" % (NS_PREFIX, pid), "%s%d-c" % (NS_PREFIX, pid)
        self.made, self.procs = [], []
        remove_stale_namespaces()
        try:
            for ns in (self.server, self.client):
                sh(["ip", "netns", "add", ns])
                self.made.append(ns)
            vs, vc = "mpab%ds" % pid, "mpab%dc" % pid  # at most 12 characters (pids have at most 7 digits)
            sh(["ip", "link", "add", vs, "netns", self.server, "type", "veth", "peer", "name", vc, "netns", self.client])
            for ns, dev, ip in ((self.server, vs, SERVER_IP), (self.client, vc, CLIENT_IP)):
                self.ex(ns, "ip", "addr", "add", ip + "/24", "dev", dev)
                self.ex(ns, "ip", "link", "set", dev, "up")
                self.ex(ns, "ip", "link", "set", "lo", "up")
                self.ex(ns, "sysctl", "-q", "-w", "net.mptcp.enabled=1")
            # churn leaves every client connection in TIME_WAIT: reuse their ports after 1 s, as loopback does by
            # default (tcp_tw_reuse=2), and use the whole port range
            self.ex(self.client, "sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1")
            self.ex(self.client, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535")
        except BaseException:
            self.close()
            raise

    def ex(self, ns, *cmd):
        return sh(["ip", "netns", "exec", ns] + list(cmd))

    def counters(self):
        return (counters(self.ex(self.client, "cat", "/proc/net/netstat", "/proc/net/snmp")),
                counters(self.ex(self.server, "cat", "/proc/net/netstat", "/proc/net/snmp")))

    def start_server(self, cmd):
        """Starts cmd (which prints 'port N' when listening) in the server namespace; returns (process, port)."""
        err = tempfile.TemporaryFile()
        p = subprocess.Popen(["ip", "netns", "exec", self.server] + NICE + cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=err)
        p.err = err
        self.procs.append(p)
        ready, _, _ = select.select([p.stdout], [], [], 60)
        line = p.stdout.readline().decode(errors="replace") if ready else ""
        m = re.match(r"port (\d+)", line)
        if not m:
            self.stop(p)
            err.seek(0)
            raise RuntimeError("server did not start: %s\n%s%s" % (" ".join(cmd), line, err.read().decode(errors="replace")))
        return p, int(m.group(1))

    def stop(self, p):
        """The servers exit when their standard input ends; killed if they do not within 10 s."""
        if p.poll() is None:
            try:
                p.stdin.close()
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def client_run(self, cmd, timeout):
        try:
            p = subprocess.run(["ip", "netns", "exec", self.client] + NICE + cmd, capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError("client run exceeded %d s: %s" % (timeout, " ".join(cmd)))
        if p.returncode != 0:
            raise RuntimeError("client failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        return p.stdout

    def close(self):
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            for p in list(self.procs):
                self.stop(p)
            for ns in reversed(self.made):  # deleting a namespace deletes its end of the veth, and so the pair
                sh(["ip", "netns", "del", ns], check=False)
            self.made = []
        finally:
            for s, h in old.items():
                signal.signal(s, h)


def premise(expect, n, dc, ds):
    """Did every connection of a client run use the protocol claimed? From the kernel's counters of both namespaces
    (nothing else runs in them). Returns (mptcp connections, problem or None)."""
    opens = dc.get("Tcp:ActiveOpens", 0)
    mp = dc.get("MPTcpExt:MPCapableSYNACKRX", 0)  # the client received the server's MP_CAPABLE SYN-ACK
    tried = dc.get("MPTcpExt:MPCapableSYNTX", 0) + ds.get("MPTcpExt:MPCapableSYNRX", 0)
    fallback = sum(d.get("MPTcpExt:" + k, 0) for d in (dc, ds) for k in
                   ("MPCapableFallbackACK", "MPCapableFallbackSYNACK", "MPCapableDataFallback"))
    if opens < n:
        return mp, "the client's namespace counted %d TCP connections opened for the %d the client made" % (opens, n)
    if expect == "mptcp" and (mp != opens or fallback):
        return mp, ("expected MPTCP, but only %d of %d connections were (MP_CAPABLE SYN-ACK received by the client), "
                    "%d fell back to TCP" % (mp, opens, fallback))
    if expect == "tcp" and (mp or tried):
        return mp, ("expected plain TCP, but MPTCP was attempted (%d MP_CAPABLE SYNs sent or received) and %d "
                    "connections were MPTCP" % (tried, mp))
    return mp, None


def ns_pair_rows(java, a, table, name, variant=None):
    """Connection churn between the two namespaces: the agent with its default options (the destination is not
    loopback, so MPTCP) vs plain TCP, vs mptcpize run (both MPTCP), and with --baseline-jar vs that jar. Each side
    runs the same JVM setup: a server JVM in one namespace and a client JVM in the other.

    No bulk row here: over a veth, an MPTCP bulk transfer stalls on MPTCP-level retransmission timeouts (about 20 per
    4 s run, MPTcpExtMPTCPRetrans), mptcpize and agent alike, so that runs of the same configuration range from 0.16
    to 2.3 Gbit/s (plain TCP: 17 to 34 Gbit/s): a ratio would say nothing about the agent."""
    pair = a.nspair
    row = "namespace pair: connection churn (connect+accept+close), agent vs %s"
    if pair is None:
        table.invalid(name, row % "plain TCP / mptcpize", "–", "skipped: " + a.nspair_skip)
        return
    configs = {"plain TCP": ([java], "tcp"), "agent": ([java, "-javaagent:" + a.jar], "mptcp"),
               "mptcpize": (["mptcpize", "run", java], "mptcp")}
    baselines = [("plain TCP", "–"), ("mptcpize", "≥ 0.97×")]
    if variant == "paths":  # the per-path accounting's cost (issue 22): the agent with paths=on vs paths=off
        row = "namespace pair: connection churn (connect+accept+close), agent (paths=on) vs %s"
        configs = {"paths=off": ([java, "-javaagent:" + a.jar + "=paths=off"], "mptcp"),
                   "agent": ([java, "-javaagent:" + a.jar], "mptcp")}
        baselines = [("paths=off", "≥ 0.99×")]
    elif a.baseline_jar:
        configs["baseline agent"] = ([java, "-javaagent:" + a.baseline_jar], "mptcp")
        baselines.append(("baseline agent", "≥ 0.97×"))
    servers = {}
    verdicts = {}  # per row: emptied before each

    def measure(cfg):
        prefix, expect = configs[cfg]
        cmd = prefix + ["-cp", a.classes, "Churn", str(a.warm_s), str(a.measure_s), SERVER_IP, str(servers[cfg][1]),
                        str(MAX_CONNECTIONS)]
        before = pair.counters()
        out = pair.client_run(cmd, a.warm_s + a.measure_s + 60)
        after = pair.counters()
        rate = re.search(r"connections/s ([0-9.]+)", out)
        n = re.search(r"^connections (\d+)", out, re.M)
        if not rate or not n:
            raise RuntimeError("no result from " + " ".join(cmd) + ": " + out)
        dc = {k: v - before[0].get(k, 0) for k, v in after[0].items()}
        ds = {k: v - before[1].get(k, 0) for k, v in after[1].items()}
        mp, problem = premise(expect, int(n.group(1)), dc, ds)
        v = verdicts.setdefault(cfg, {"n": 0, "mp": 0, "problems": []})
        v["n"] += int(n.group(1))
        v["mp"] += mp
        if problem:
            v["problems"].append(problem)
        return float(rate.group(1))

    try:
        for cfg, (prefix, _) in configs.items():
            servers[cfg] = pair.start_server(prefix + ["-cp", a.classes, "Churn", "serve", SERVER_IP])
        for base, target in baselines:
            verdicts.clear()
            b, c = paired(base, "agent", a.runs, a.warmup_tp, measure)
            problems = ["%s: %s" % (cfg, verdicts[cfg]["problems"][0]) for cfg in (base, "agent")
                        if verdicts[cfg]["problems"]]
            if problems:
                table.invalid(name, row % base, target, "premise false, " + "; ".join(problems))
                continue
            ratios = [x / y for x, y in zip(c, b)]
            note = "(kernel: %s)" % "; ".join("%s %d of %d connections MPTCP" % (cfg, verdicts[cfg]["mp"], verdicts[cfg]["n"])
                                              for cfg in (base, "agent"))
            table.add(name, row % base, "conn/s", b, c, "ratio", ratios, target,
                      None if target == "–" else statistics.median(ratios) >= float(target[2:-1]), note)
    except RuntimeError as e:  # a server or client that failed: this row has no figure, the other rows still run
        print("   namespace pair: " + str(e), file=sys.stderr, flush=True)
        table.invalid(name, row % "…", "–", "failed: " + str(e).splitlines()[0])
    finally:
        for p, _ in servers.values():
            pair.stop(p)
    print("   namespace pair: connection churn done", flush=True)


def program(pattern):
    """A measuring function: runs a command (niced) and returns the number its output prints after `pattern`."""
    def measure(cmd):
        _, _, out, _ = run(NICE + cmd)
        m = re.search(pattern + r" ([0-9.]+)", out)
        if not m:
            sys.exit("no result from " + " ".join(cmd) + ": " + out)
        return float(m.group(1))
    return measure

def paths_rows(java, a, table, name):
    """The per-path accounting's cost (issue 22): the agent with its default paths=on against the same agent with
    paths=off: loopback churn and bulk with loopback=mptcp (both ends of every connection in one JVM, both followed),
    and the namespace-pair churn (client and server JVMs, each end followed)."""
    agent = "-javaagent:" + a.jar + "=loopback=mptcp"
    for label, main, pattern, unit in (("connection churn (connect+accept+close)", "Churn", "connections/s", "conn/s"),
                                       ("bulk throughput, 1 connection", "Bulk", "gbit/s", "Gbit/s")):
        args = ["-cp", a.classes, main, str(a.warm_s), str(a.measure_s)]
        b, c = paired([java, agent + ",paths=off"] + args, [java, agent] + args, a.runs, a.warmup_tp, program(pattern))
        ratios = [x / y for x, y in zip(c, b)]
        table.add(name, "loopback " + label + " (loopback=mptcp), paths=on vs paths=off", unit, b, c, "ratio", ratios,
                  "≥ 0.99×", statistics.median(ratios) >= 0.99, "load %.1f" % os.getloadavg()[0])
        print("   paths: %s done" % label, flush=True)
    ns_pair_rows(java, a, table, name, "paths")


def netty_rows(java, a, table, name):
    """Netty's native transports (issue 24), bench/netty_churn.py: connection churn over loopback, the agent with its
    defaults (loopback kept TCP) against plain Netty, per Netty version and transport: connections/s (>= 0.97x) and
    the process's CPU time per connection (<= 1.05x); and, as root, between the two namespaces (MPTCP), the agent
    against plain Netty (no target) and against --baseline-jar (>= 0.97x: no more than before)."""
    import netty_churn
    try:
        cp42, cp41 = netty_churn.classpaths()
    except OSError as e:
        table.invalid(name, "Netty connection churn", "–", "skipped: no Netty class path (%s; bench/run.sh builds it)" % e)
        return
    cfg = {"warmup": 1000 if a.quick else netty_churn.WARMUP, "count": 1000 if a.quick else 2000,
           "batches": 3 if a.quick else 5, "bind": "127.0.0.1", "host": "127.0.0.1", "jvm": []}
    agent = "-javaagent:" + a.jar
    for t in ("4.2:epoll", "4.2:io_uring", "4.1:epoll"):
        netty, transport = t.split(":")
        cp = cp41 if netty == "4.1" else cp42
        label = "Netty %s %s loopback churn, agent (loopback kept TCP) vs plain Netty" % (netty, transport)
        try:
            b, c = paired("", agent, a.runs, a.warmup_tp,
                          lambda v: netty_churn.loopback_run(java, v, cp, transport, cfg, NICE))
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            table.invalid(name, label, "–", "failed: " + str(e).splitlines()[0][:300])
            continue
        rate = [y[0] / x[0] for x, y in zip(b, c)]
        cpu = [y[1] / x[1] for x, y in zip(b, c)]
        table.add(name, label + ": conn/s", "conn/s", [x[0] for x in b], [y[0] for y in c], "ratio", rate, "≥ 0.97×",
                  statistics.median(rate) >= 0.97)
        table.add(name, label + ": CPU µs per connection", "µs", [x[1] for x in b], [y[1] for y in c], "ratio", cpu,
                  "≤ 1.05×", statistics.median(cpu) <= 1.05)
        print("   Netty %s %s loopback done" % (netty, transport), flush=True)
    if a.nspair is None:
        table.invalid(name, "Netty namespace pair churn", "–", "skipped: " + a.nspair_skip)
        return
    variants = {"plain Netty": "", "agent": agent}
    targets = [("plain Netty", "–")]
    if a.baseline_jar:
        variants["baseline agent"] = "-javaagent:" + a.baseline_jar
        targets.append(("baseline agent", "≥ 0.97×"))
    for t in ("4.2:epoll", "4.1:epoll"):
        netty, transport = t.split(":")
        cp = cp41 if netty == "4.1" else cp42
        servers = None
        try:
            servers = netty_churn.NsServers(a.nspair, java, cp, transport, variants, cfg, NICE)
            for base, target in targets:
                label = "Netty %s %s namespace pair churn (MPTCP), agent vs %s" % (netty, transport, base)
                b, c = paired(base, "agent", a.runs, a.warmup_tp,
                              lambda v: servers.run(java, v, variants[v], cp, transport, cfg, NICE))
                rate = [y[0] / x[0] for x, y in zip(b, c)]
                table.add(name, label, "conn/s", [x[0] for x in b], [y[0] for y in c], "ratio", rate, target,
                          None if target == "–" else statistics.median(rate) >= 0.97)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            table.invalid(name, "Netty %s %s namespace pair churn" % (netty, transport), "–",
                          "failed: " + str(e).splitlines()[0][:300])
        finally:
            if servers:
                servers.close()
    print("   Netty namespace pair done", flush=True)


def bench_jdk(java, a, table, work):
    name = jdk_name(java)
    major = name.split(".")[0]
    classes = a.classes
    agent = "-javaagent:" + a.jar
    hello = ["-cp", classes, "Hello"]
    print("== JDK %s (%s)" % (name, java), flush=True)
    if a.only == "ns-pair":
        ns_pair_rows(java, a, table, name)
        return
    if a.only == "paths":
        paths_rows(java, a, table, name)
        return
    if a.only == "netty":
        netty_rows(java, a, table, name)
        return

    # 1. start-up: wall, CPU time and peak RSS of a hello world that opens one socket, against the floor of any Java
    # agent: an empty -javaagent (issue 13's targets: +40 ms wall, +100 ms CPU, +10 MiB); plain Java when not given
    def startup(cmd):
        wall, rss, err, cpu = run_rss(NICE + cmd)
        return {"wall": wall, "rss": rss, "err": err, "cpu": cpu}
    floor = [java, "-javaagent:" + a.empty_agent] if a.empty_agent else [java]
    over = "over the empty -javaagent" if a.empty_agent else "over plain Java"
    b, c = paired(floor + hello, [java, agent] + hello, a.runs, a.warmup, startup)
    dw = [x["wall"] - y["wall"] for x, y in zip(c, b)]
    dr = [x["rss"] - y["rss"] for x, y in zip(c, b)]
    dc = [x["cpu"] - y["cpu"] for x, y in zip(c, b)]
    table.add(name, "start-up wall " + over + ", hello + 1 socket", "ms", [x["wall"] for x in b],
              [x["wall"] for x in c], "diff", dw, "≤ +40 ms", statistics.median(dw) <= 40)
    table.add(name, "start-up CPU time (user+sys, all threads) " + over, "ms", [x["cpu"] for x in b],
              [x["cpu"] for x in c], "diff", dc, "≤ +100 ms", statistics.median(dc) <= 100)
    table.add(name, "start-up peak RSS " + over, "MiB", [x["rss"] for x in b], [x["rss"] for x in c], "diff", dr,
              "≤ +10 MiB", statistics.median(dr) <= 10)
    warnings = sorted({l for x in c for l in x["err"].splitlines() if l.strip()})
    if warnings:
        print("   agent run printed on stderr: " + " | ".join(warnings[:4]), flush=True)
    # reference: a start that finds no class cache (the first start of a new agent or JDK build; cache=off always)
    nocache = agent + ("," if "=" in agent else "=") + "cache=off"
    b4, c4 = paired(floor + hello, [java, nocache] + hello, a.runs, a.warmup, startup)
    d4 = [x["wall"] - y["wall"] for x, y in zip(c4, b4)]
    d4c = [x["cpu"] - y["cpu"] for x, y in zip(c4, b4)]
    table.add(name, "(reference) start-up wall " + over + ", cache=off (a first start)", "ms", [x["wall"] for x in b4],
              [x["wall"] for x in c4], "diff", d4, "–", None)
    table.add(name, "(reference) start-up CPU " + over + ", cache=off (a first start)", "ms", [x["cpu"] for x in b4],
              [x["cpu"] for x in c4], "diff", d4c, "–", None)
    # reference: the floor, a -javaagent jar whose premain does nothing, against plain Java
    if a.empty_agent:
        b3, c3 = paired([java] + hello, [java, "-javaagent:" + a.empty_agent] + hello, a.runs, a.warmup, startup)
        d3 = [x["wall"] - y["wall"] for x, y in zip(c3, b3)]
        table.add(name, "(reference) start-up wall, empty -javaagent vs plain", "ms", [x["wall"] for x in b3],
                  [x["wall"] for x in c3], "diff", d3, "–", None)
    # reference: what mptcpize costs at start-up
    b2, c2 = paired([java] + hello, ["mptcpize", "run", java] + hello, a.runs, a.warmup, startup)
    d2 = [x["wall"] - y["wall"] for x, y in zip(c2, b2)]
    table.add(name, "(reference) start-up wall, mptcpize vs plain", "ms", [x["wall"] for x in b2], [x["wall"] for x in c2],
              "diff", d2, "–", None)

    if a.only == "startup":
        return

    # 2. AppCDS: archive made without the agent, used with and without it
    jsa = os.path.join(work, "hello-%s.jsa" % major)
    if os.path.exists(jsa):
        os.remove(jsa)
    run([java, "-XX:ArchiveClassesAtExit=" + jsa] + hello)
    cds = ["-XX:SharedArchiveFile=" + jsa, "-Xshare:auto"]
    _, _, out, err = run([java, agent] + cds + ["-Xlog:class+load=info"] + hello)
    from_archive = bool(re.search(r"\] Hello source: shared objects file \(top\)", out))
    downgraded = "Sharing is only supported for boot loader classes" in (out + err)
    b, c = paired(floor + cds + hello, [java, agent] + cds + hello, a.runs, a.warmup, startup)
    dw = [x["wall"] - y["wall"] for x, y in zip(c, b)]
    ok = from_archive and not downgraded and statistics.median(dw) <= 40
    table.add(name, "AppCDS app: start-up wall " + over, "ms", [x["wall"] for x in b], [x["wall"] for x in c], "diff", dw,
              "archive applies, ≤ +40 ms", ok,
              "(app class from archive with agent: %s; CDS downgrade warning: %s)" % (
                  "yes" if from_archive else "NO", "YES" if downgraded else "no"))

    # 3. connection churn and 4. bulk throughput: agent vs mptcpize, both MPTCP (loopback=mptcp: by default the
    # agent keeps loopback TCP); then the default, loopback kept TCP by the rules, against plain TCP
    for label, main, pattern, unit, target in (
            ("connection churn (connect+accept+close)", "Churn", "connections/s", "conn/s", 0.97),
            ("bulk throughput, 1 connection", "Bulk", "gbit/s", "Gbit/s", 0.98)):
        args = ["-cp", classes, main, str(a.warm_s), str(a.measure_s)]
        b, c = paired(["mptcpize", "run", java] + args, [java, agent + "=loopback=mptcp"] + args, a.runs, a.warmup_tp,
                      program(pattern))
        ratios = [x / y for x, y in zip(c, b)]
        table.add(name, label + " vs mptcpize (loopback=mptcp)", unit, b, c, "ratio", ratios, "≥ %.2f×" % target,
                  statistics.median(ratios) >= target)
        b, c = paired([java] + args, [java, agent] + args, a.runs, a.warmup_tp, program(pattern))
        ratios = [x / y for x, y in zip(c, b)]
        table.add(name, "loopback " + label + ", kept TCP by the rules, vs plain TCP", unit, b, c, "ratio", ratios,
                  "≥ 0.97×", statistics.median(ratios) >= 0.97)
        print("   %s done" % label, flush=True)

    # 5. the same churn between two network namespaces (connections to another host)
    ns_pair_rows(java, a, table, name)

    # 6. Netty's native transports: loopback churn against plain Netty, namespace pair against the baseline
    netty_rows(java, a, table, name)

    # 7. per-socket creation cost, JMH: plain TCP, mptcpize, agent
    if a.jmh:
        jmh = [java, "-jar", a.jmh, "-f", "1", "-foe", "true"] + a.jmh_args
        results = {}
        for label, prefix, extra in (("plain TCP", [], []), ("mptcpize", ["mptcpize", "run"], []),
                                     ("agent", [], ["-jvmArgsAppend", agent])):
            rf = os.path.join(work, "jmh-%s-%s.json" % (major, label.split()[0]))
            run(NICE + prefix + jmh + extra + ["-rf", "json", "-rff", rf])
            with open(rf) as f:
                for r in json.load(f):
                    bm = r["benchmark"].rsplit(".", 1)[1]
                    results.setdefault(bm, {})[label] = (r["primaryMetric"]["score"], r["primaryMetric"]["scoreError"])
        table.jmh = getattr(table, "jmh", [])
        for bm, v in sorted(results.items()):
            table.jmh.append((name, bm, v))
        print("   JMH done", flush=True)


def jmh_markdown(table):
    rows = getattr(table, "jmh", [])
    if not rows:
        return ""
    lines = ["| JDK | create + close | plain TCP (ns) | mptcpize (ns) | agent (ns) | agent − mptcpize |", "|---|---|---|---|---|---|"]
    for jdk, bm, v in rows:
        def f(k):
            s, e = v.get(k, (float("nan"), float("nan")))
            s, e = float(s), float(e)
            return ("%.0f" % s) if e != e else ("%.0f ± %.0f" % (s, e))
        d = v["agent"][0] - v["mptcpize"][0]
        lines.append("| %s | %s | %s | %s | %s | %+.0f ns |" % (jdk, bm, f("plain TCP"), f("mptcpize"), f("agent"), d))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jar", required=True)
    p.add_argument("--classes", required=True)
    p.add_argument("--jmh")
    p.add_argument("--empty-agent", help="a jar with a no-op premain, for the floor row")
    p.add_argument("--java", action="append", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", required=True)
    p.add_argument("--baseline-jar", help="another agent jar (e.g. built from an older commit): adds the namespace-pair "
                   "row 'agent vs baseline agent'")
    p.add_argument("--only", choices=["ns-pair", "startup", "netty", "paths"],
                   help="run only the namespace-pair rows, the start-up rows, the Netty rows, or the rows of the "
                   "per-path accounting's cost (paths=on vs paths=off)")
    p.add_argument("--pairs", type=int, help="pairs per row (default 10, 3 with --quick)")
    a = p.parse_args()
    if a.quick:
        a.runs, a.warmup, a.warmup_tp, a.warm_s, a.measure_s = 3, 1, 0, 0.5, 1.0
        a.jmh_args = ["-wi", "1", "-w", "500ms", "-i", "2", "-r", "500ms"]
    else:
        a.runs, a.warmup, a.warmup_tp, a.warm_s, a.measure_s = 10, 2, 1, 1.0, 3.0
        a.jmh_args = []
    if a.pairs:
        a.runs = a.pairs
    work = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(work, exist_ok=True)
    # the agent's class cache (cache=on) of this run only: it starts empty, the warm-up runs fill it, as a fleet's
    # first start after a roll-out does; the user's ~/.cache is left alone
    cache_home = tempfile.mkdtemp(prefix="bench-cache-", dir=work)
    os.environ["XDG_CACHE_HOME"] = cache_home
    table = Table()
    load_before = os.getloadavg()

    def on_signal(sig, frame):
        raise SystemExit(128 + sig)  # unwinds through the finally below, which deletes the namespaces
    for sig in (signal.SIGTERM, signal.SIGHUP):  # SIGINT raises KeyboardInterrupt; an ignored signal stays ignored
        if signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, on_signal)
    a.nspair, a.nspair_skip = None, "--only startup" if a.only == "startup" else ns_pair_unavailable()
    try:
        if a.nspair_skip is None:
            try:
                a.nspair = NsPair()
            except RuntimeError as e:
                a.nspair_skip = "could not create the network namespaces: %s" % e
        if a.nspair_skip:
            print("namespace-pair rows skipped: " + a.nspair_skip, file=sys.stderr, flush=True)
        for java in a.java:
            bench_jdk(java, a, table, work)
    finally:
        if a.nspair:
            a.nspair.close()
        shutil.rmtree(cache_home, ignore_errors=True)
    md = table.markdown()
    jm = jmh_markdown(table)
    header = "%d pairs per row%s; %d cores; kernel %s; load average %.1f at the start, %.1f at the end" % (
        a.runs, " (--quick)" if a.quick else "", os.cpu_count(), os.uname().release, load_before[0],
        os.getloadavg()[0])
    text = header + "\n\n" + md + ("\n\nPer-socket creation cost (JMH, avgt):\n\n" + jm if jm else "") + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump({"rows": table.rows, "jmh": getattr(table, "jmh", [])}, f, indent=1)
    print()
    print(text)


if __name__ == "__main__":
    main()
