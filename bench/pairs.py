#!/usr/bin/env python3
"""Paired, interleaved timing of two commands: wall time and peak RSS of each run.

Usage: pairs.py [--runs N] [--warmup W] [--label NAME] -- BASELINE... --vs-- CANDIDATE...
Each pair runs baseline and candidate back to back, alternating which goes first, so that the machine's load drift
hits both alike. Prints one JSON object (ms and MiB, min/median/max of each side and of the per-pair differences).
"""
import json, os, statistics, subprocess, sys, time


def run(cmd):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.perf_counter_ns() - t0) / 1e6
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), err))
    return wall, usage.ru_maxrss / 1024.0, err


def stats(xs):
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}


def main(argv):
    runs, warmup, label = 10, 2, ""
    while argv and argv[0] != "--":
        opt = argv.pop(0)
        if opt == "--runs":
            runs = int(argv.pop(0))
        elif opt == "--warmup":
            warmup = int(argv.pop(0))
        elif opt == "--label":
            label = argv.pop(0)
        else:
            sys.exit("unknown option " + opt)
    argv.pop(0)
    split = argv.index("--vs--")
    base, cand = argv[:split], argv[split + 1:]
    for _ in range(warmup):
        run(base)
        run(cand)
    bw, bm, cw, cm = [], [], [], []
    stderr_sample = ""
    for i in range(runs):
        order = [(base, bw, bm), (cand, cw, cm)]
        if i % 2:
            order.reverse()
        for cmd, w, m in order:
            wall, rss, err = run(cmd)
            w.append(wall)
            m.append(rss)
            if cmd is cand and err and not stderr_sample:
                stderr_sample = err[:500]
    out = {
        "label": label, "runs": runs,
        "base_ms": stats(bw), "cand_ms": stats(cw),
        "diff_ms": stats([c - b for b, c in zip(bw, cw)]),
        "base_mib": stats(bm), "cand_mib": stats(cm),
        "diff_mib": stats([c - b for b, c in zip(bm, cm)]),
        "cand_stderr": stderr_sample,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
