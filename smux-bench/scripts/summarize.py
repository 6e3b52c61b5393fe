#!/usr/bin/env python3
"""Summarizes a JMH JSON result of smux-bench as the ratios the README reports.

usage: python3 smux-bench/scripts/summarize.py result.json [more.json ...]

For each benchmark it takes the payload rate (the ':bytes' counter, bytes/s) of every
measurement iteration and prints the median and the best iteration. On a shared, noisy machine
other load only ever slows a run down, so the best iteration estimates the uncontended rate and
the median the typical one; the ratios are printed for both. Allocation per frame is
gc.alloc.rate.norm (B/op) divided by frames per op (':frames' rate / primary ops rate).
"""
import json
import statistics
import sys


def key(bench):
    name = bench["benchmark"].rsplit(".", 2)[-2]
    p = bench.get("params", {})
    parts = [name] + [f"{k}={p[k]}" for k in sorted(p) if k != "writeSize"]
    return " ".join(parts)


def main(paths):
    rows = {}
    for path in paths:
        with open(path) as f:
            for b in json.load(f):
                sec = b.get("secondaryMetrics", {})
                if "bytes" not in sec:
                    continue
                raw = [x for fork in sec["bytes"]["rawData"] for x in fork]
                ops = [x for fork in b["primaryMetric"]["rawData"] for x in fork]
                r = rows.setdefault(key(b), {"bytes": [], "ops": [], "frames": [], "norm": []})
                r["bytes"] += raw
                r["ops"] += ops
                if "frames" in sec:
                    r["frames"] += [x for fork in sec["frames"]["rawData"] for x in fork]
                if "gc.alloc.rate.norm" in sec:
                    r["norm"] += [x for fork in sec["gc.alloc.rate.norm"]["rawData"] for x in fork]
    print(f"{'benchmark':45} {'median MB/s':>12} {'best MB/s':>10} {'B/op':>8} {'frames/op':>10} {'B/frame':>8}")
    med, best = {}, {}
    for k in sorted(rows):
        r = rows[k]
        med[k] = statistics.median(r["bytes"]) / 1e6
        best[k] = max(r["bytes"]) / 1e6
        norm = statistics.median(r["norm"]) if r["norm"] else float("nan")
        fpo = (sum(r["frames"]) / sum(r["ops"])) if r["frames"] and sum(r["frames"]) > 0 else 0
        bpf = f"{norm / fpo:.3f}" if fpo else "-"
        print(f"{k:45} {med[k]:12.0f} {best[k]:10.0f} {norm:8.3f} {fpo:10.1f} {bpf:>8}")
    for k in sorted(rows):
        if not k.startswith("EngineThroughput"):
            continue
        base = k.replace("EngineThroughput", "CopyBaseline")
        streams = k.rsplit("streams=", 1)[-1]
        # TCP writing from as many distinct buffers as there are streams, else any TCP row
        tcp = [t for t in rows if t.startswith("LoopbackTcp") and t.endswith(f"sources={streams}")]
        tcp = tcp or [t for t in rows if t.startswith("LoopbackTcp")]
        line = f"{k:45}"
        if base in rows:
            line += f"  engine/copy median {med[k] / med[base]:.2f} best {best[k] / best[base]:.2f}"
        if tcp:
            t = tcp[0]
            line += f"  engine/tcp median {med[k] / med[t]:.2f} best {best[k] / best[t]:.2f}"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
