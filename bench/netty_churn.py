#!/usr/bin/env python3
"""Netty connection churn (it-tests' NettyChurn), two variants A and B in paired, interleaved runs.

Run it through bench/netty-churn.sh (which builds the class path); bench/bench.py (bench/run.sh) uses rows() for its
Netty rows. Two set-ups:

  loopback  one JVM per run, a Netty client and server on one event loop, over 127.0.0.1 (by default: plain Netty
            against the agent with its defaults, loopback=tcp: the issue-24 targets, rate >= 0.97x, CPU <= 1.05x)
  ns        a server JVM in one network namespace, a client JVM in another, joined by a veth: connections to another
            host, MPTCP under the agent (made and deleted here; as root). Meant for an agent against a baseline agent
            (A=-javaagent:before.jar B=-javaagent:after.jar): the target is rate >= 0.97x

Each connection is connect + accept + close, one at a time; each run makes WARMUP unmeasured connections (20,000 by
default: the steady state; after 5,000 the JIT is still compiling the agent's hooks and Netty's rewritten methods, which
shows as 3-14 % more CPU per connection under the agent, a cost of the first seconds only), then BATCHES
batches of COUNT, and reports the median batch: connections/s, the client process's CPU time per connection (user +
system, all threads) and its event loop thread's CPU time per connection (where every socket call runs, the agent's
included; the steadier figure on a shared machine). Pairs alternate their order (A B, B A, ...); the table gives the
medians of each side and of the per-pair ratios B/A, and the load average around each row.
"""
import os, re, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = "mptcp.it.servers.NettyChurn"
KEYS = ("connections/s", "cpu_us_per_connection", "loop_cpu_us_per_connection")
# warm-up connections per run: the steady state (see the module comment); bench.py's Netty rows use it too
WARMUP = 20000


def classpaths():
    """(Netty 4.2 class path, Netty 4.1 class path) of the churn program, from bench/target/netty-churn.classpath;
    TEST_CLASSES=dir: the compiled it-tests classes from there (a copy, so that a rebuild cannot disturb a long run)."""
    listed = os.path.join(ROOT, "bench", "target", "netty-churn.classpath")
    tests = os.environ.get("TEST_CLASSES") or os.path.join(ROOT, "it-tests", "target", "test-classes")
    with open(listed) as f:
        deps = [e for e in f.read().strip().split(":") if e and not re.search(r"/(agent|native)/target/", e)]
    n41 = os.path.join(ROOT, "it-tests", "target", "netty41")
    jars41 = sorted(os.path.join(n41, j) for j in os.listdir(n41) if j.endswith(".jar"))
    return ":".join([tests] + deps), ":".join([tests] + jars41)


def jdk_version(java):
    err = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "([^"]+)"', err)
    return m.group(1) if m else java


def load():
    return "%.1f" % os.getloadavg()[0]


def parse(out, what):
    r = {l.split()[0]: float(l.split()[1]) for l in out.splitlines() if l.split() and l.split()[0] in KEYS}
    if len(r) != 3:
        raise RuntimeError("no result from %s:\n%s" % (what, out))
    return [r[k] for k in KEYS]


def options(variant):
    """JVM options of a variant: '|' separates them (so that one may contain spaces: a rule)."""
    return [o for o in variant.split("|") if o]


def shown(cmd):
    """A command for a message, its class path shortened."""
    return " ".join(c if len(c) < 200 else c[:60] + "..." for c in cmd)


def loopback_run(java, variant, cp, transport, cfg, nice=()):
    cmd = list(nice) + [java] + options(variant) + cfg["jvm"] + ["-cp", cp, MAIN, transport, cfg["bind"], cfg["host"],
                                                              str(cfg["warmup"]), str(cfg["count"]), str(cfg["batches"])]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("failed (%d): %s\n%s%s" % (out.returncode, shown(cmd), out.stdout[-2000:], out.stderr[-2000:]))
    return parse(out.stdout, shown(cmd))


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class NsServers:
    """One NettyChurn server per variant in the server namespace of bench.py's NsPair (made here, deleted by close)."""

    def __init__(self, pair, java, cp, transport, variants, cfg, nice=()):
        self.pair, self.servers = pair, {}
        import bench
        self.server_ip = bench.SERVER_IP
        try:
            for name, variant in variants.items():
                cmd = list(nice) + [java] + options(variant) + cfg["jvm"] + ["-cp", cp, MAIN, transport, "serve",
                                                                          self.server_ip]
                self.servers[name] = self.start(cmd)
        except BaseException:
            self.close()
            raise

    def start(self, cmd):
        """Starts the server in the server namespace; returns (process, port) once it printed "port N" (the lines of
        the application's own logging before it are skipped)."""
        import select, tempfile
        err = tempfile.TemporaryFile()
        p = subprocess.Popen(["ip", "netns", "exec", self.pair.server] + cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=err)
        self.pair.procs.append(p)
        deadline = time.time() + 60
        seen = []
        while time.time() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], max(0.1, deadline - time.time()))
            line = p.stdout.readline().decode(errors="replace") if ready else ""
            if not line and p.poll() is not None:
                break
            m = re.match(r"port (\d+)$", line.strip())
            if m:
                # keep reading its output, so that it never blocks on a full pipe
                import threading
                threading.Thread(target=lambda: p.stdout.read(), daemon=True).start()
                return p, int(m.group(1))
            seen.append(line)
        self.pair.stop(p)
        err.seek(0)
        raise RuntimeError("server did not start: %s\n%s%s" % (" ".join(cmd[-6:]), "".join(seen[-5:]),
                                                               err.read().decode(errors="replace")[-2000:]))

    def run(self, java, name, variant, cp, transport, cfg, nice=()):
        import bench
        p, port = self.servers[name]
        cmd = list(nice) + [java] + options(variant) + cfg["jvm"] + ["-cp", cp, MAIN, transport, "connect", self.server_ip,
                                                                  str(port), str(cfg["warmup"]), str(cfg["count"]),
                                                                  str(cfg["batches"])]
        before, ticks = self.pair.counters(), cpu_ticks(p.pid)
        out = self.pair.client_run(cmd, 600)
        ticks, after = cpu_ticks(p.pid) - ticks, self.pair.counters()
        n = cfg["warmup"] + cfg["count"] * cfg["batches"]
        dc = {k: v - before[0].get(k, 0) for k, v in after[0].items()}
        ds = {k: v - before[1].get(k, 0) for k, v in after[1].items()}
        expect = "mptcp" if any(o.startswith("-javaagent:") for o in options(variant)) else "tcp"
        mp, problem = bench.premise(expect, n, dc, ds)
        if problem:
            raise RuntimeError("premise false for %s: %s" % (name, problem))
        r = parse(out, shown(cmd))
        # the server's whole CPU time over the run, per connection (warm-up included)
        return r + [ticks * 1e6 / os.sysconf("SC_CLK_TCK") / n]

    def close(self):
        for p, _ in self.servers.values():
            self.pair.stop(p)
        self.servers = {}


def paired(measure_a, measure_b, pairs):
    xs, ys = [], []
    for i in range(pairs):
        if i % 2 == 0:
            xs.append(measure_a())
            ys.append(measure_b())
        else:
            ys.append(measure_b())
            xs.append(measure_a())
    return xs, ys


def rows(javas, transports, a, b, cfg, ns=None, nice=(), out=print):
    """Measures each JDK x transport ("4.2:epoll", ...) and prints one table row each; returns the rows as dicts.
    ns: bench.NsPair for the two-namespace set-up, None for loopback."""
    cp42, cp41 = classpaths()
    m = statistics.median
    results = []
    if ns is None:
        out("| JDK | Netty | transport | A conn/s | B conn/s | rate B/A | rate B/A per pair | A CPU µs/conn | B CPU µs/conn "
            "| CPU B/A | A loop µs/conn | B loop µs/conn | loop B/A | load |")
        out("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    else:
        out("| JDK | Netty | transport | A conn/s | B conn/s | rate B/A | rate B/A per pair | A client CPU µs/conn "
            "| B client CPU µs/conn | client CPU B/A | A server CPU µs/conn | B server CPU µs/conn | server CPU B/A | load |")
        out("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for java in javas:
        version = jdk_version(java)
        for t in transports:
            netty, transport = t.split(":")
            cp = cp41 if netty == "4.1" else cp42
            load0 = load()
            if ns is None:
                xs, ys = paired(lambda: loopback_run(java, a, cp, transport, cfg, nice),
                                lambda: loopback_run(java, b, cp, transport, cfg, nice), cfg["pairs"])
                cols = (0, 1, 2)
            else:
                servers = NsServers(ns, java, cp, transport, {"A": a, "B": b}, cfg, nice)
                try:
                    xs, ys = paired(lambda: servers.run(java, "A", a, cp, transport, cfg, nice),
                                    lambda: servers.run(java, "B", b, cp, transport, cfg, nice), cfg["pairs"])
                finally:
                    servers.close()
                cols = (0, 1, 3)
            ratio = lambda k: [y[k] / x[k] for x, y in zip(xs, ys)]
            med = lambda rows, k: m([r[k] for r in rows])
            row = {"jdk": version, "netty": netty, "transport": transport, "a": xs, "b": ys,
                   "rate": m(ratio(0)), "cpu": m(ratio(1)), "loop": m(ratio(2)), "per_pair": ratio(0),
                   "load": "%s–%s" % (load0, load())}
            if ns is not None:
                row["server_cpu"] = m(ratio(3))
            results.append(row)
            c1, c2 = cols[1], cols[2]
            out("| %s | %s | %s | %.0f | %.0f | %.3f | %s | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f | %s |" % (
                version, netty, transport, med(xs, 0), med(ys, 0), row["rate"],
                " ".join("%.2f" % r for r in ratio(0)), med(xs, c1), med(ys, c1), m(ratio(c1)), med(xs, c2), med(ys, c2),
                m(ratio(c2)), row["load"]))
    return results


def main():
    env = os.environ
    javas = [os.path.join(h, "bin", "java") for h in env.get(
        "JDKS", "/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64").split()]
    javas = [j for j in javas if os.path.exists(j)]
    transports = env.get("TRANSPORTS", "4.2:epoll 4.2:io_uring 4.1:epoll").split()
    ns = env.get("NS", "") == "1"
    agent = os.path.join(ROOT, "agent", "target", "mptcp-agent.jar")
    a = env.get("A", "")
    b = env.get("B", "-javaagent:" + agent)
    connect = env.get("CONNECT", "bootstrap")
    cfg = {"pairs": int(env.get("PAIRS", "7")), "warmup": int(env.get("WARMUP", str(WARMUP))),
           "count": int(env.get("COUNT", "2000")), "batches": int(env.get("BATCHES", "5")),
           "bind": env.get("BIND", "127.0.0.1"), "host": env.get("HOST", "127.0.0.1"),
           "jvm": ["-Dchurn.connect=" + connect]}
    # as root, the measured JVMs run at a higher priority than the rest of the machine (BENCH_NICE=0: not)
    nice = ("nice", "-n", env.get("BENCH_NICE", "-10")) if os.geteuid() == 0 and env.get("BENCH_NICE", "-10") != "0" else ()
    print("A: %s" % (a or "(no agent)"))
    print("B: %s" % (b or "(no agent)"))
    print("%s; %d pairs; %d warm-up connections, then the median of %d batches of %d per run; %s; cores %d; load %s"
          % ("two namespaces over a veth (client and server JVMs)" if ns else "loopback, bind %s, connect %s" % (
              cfg["bind"], cfg["host"]), cfg["pairs"], cfg["warmup"], cfg["batches"], cfg["count"],
             "register() then connect()" if connect == "register" else "Bootstrap.connect()", os.cpu_count(),
             " ".join("%.1f" % x for x in os.getloadavg())))
    print()
    pair = None
    if ns:
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        import bench
        why = bench.ns_pair_unavailable()
        if why:
            sys.exit(why)
        pair = bench.NsPair()
    try:
        results = rows(javas, transports, a, b, cfg, pair, nice)
    finally:
        if pair:
            pair.close()
    print()
    # the raw figures of every run, for pooling pairs of several runs: one JSON object per line
    import json
    with open(os.path.join(ROOT, "bench", "target", "netty-churn.jsonl"), "a") as f:
        for r in results:
            f.write(json.dumps(dict(r, a_options=a, b_options=b, ns=ns, connect=connect, cfg=cfg,
                                    time=time.strftime("%Y-%m-%dT%H:%M:%S"))) + "\n")
    if not ns and not a and b:
        for r in results:
            met = r["rate"] >= 0.97 and r["cpu"] <= 1.05
            print("%s Netty %s %s: rate %.3f× (target ≥ 0.97×), CPU %.3f× (target ≤ 1.05×), loop CPU %.3f×: %s" % (
                r["jdk"], r["netty"], r["transport"], r["rate"], r["cpu"], r["loop"], "met" if met else "NOT met"))
    elif ns:
        for r in results:
            print("%s Netty %s %s: rate %.3f× (target ≥ 0.97×), client CPU %.3f×, server CPU %.3f×: %s" % (
                r["jdk"], r["netty"], r["transport"], r["rate"], r["cpu"], r["server_cpu"],
                "met" if r["rate"] >= 0.97 else "NOT met"))


if __name__ == "__main__":
    main()
