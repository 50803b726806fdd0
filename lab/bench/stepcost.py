#!/usr/bin/env python3
"""stepcost.py RUN.jsonl...: per kmsctl run log, the medians and sums of a
node step's parts (stage 1 and 2): file work (the event before the step to
its `write`), the restart command (`write` to `restart`), the gate
(`restart` to `gate ok`). Used by docs/performance.md (pair.sh)."""
import datetime
import json
import statistics
import sys


def at(e):
    return datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))


def first(evs, i, pred):
    while not pred(evs[i]):
        i += 1
    return i


for path in sys.argv[1:]:
    evs = [json.loads(line) for line in open(path)]
    parts = {"file work": [], "restart cmd": [], "gate": []}
    for i, e in enumerate(evs):
        if e.get("step") != "backup" or e.get("phase") not in ("stage1", "stage2"):
            continue
        w = first(evs, i, lambda x: x.get("step") == "write")
        r = first(evs, w, lambda x: x.get("step") == "restart")
        g = first(evs, r, lambda x: x.get("step") == "gate" and x.get("result") == "ok")
        parts["file work"].append((at(evs[w]) - at(evs[i - 1])).total_seconds())
        parts["restart cmd"].append((at(evs[r]) - at(evs[w])).total_seconds())
        parts["gate"].append((at(evs[g]) - at(evs[r])).total_seconds())
    out = [f"{k}: median {statistics.median(v) * 1000:.0f} ms, sum {sum(v):.2f}s" for k, v in parts.items() if v]
    print(f"{path}: {len(parts['gate'])} steps; " + "; ".join(out))
