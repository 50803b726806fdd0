#!/usr/bin/env bash
# pair.sh: kmsctl at two commits on one lab, alternating, to see what a
# change did to the migration's wall time and overhead (docs/performance.md,
# "The batched node step, before and after"). Ansible runs beside each as the
# machine's own yardstick. Takes the lab in DIR down and up with NODES nodes.
#
#   lab/bench/pair.sh BEFORE AFTER [--dir DIR] [--nodes 10] [--rounds 2] [--runs 2]
#
# Then `python3 lab/bench/stepcost.py WORK/state/kmsctl/runs/*.jsonl` splits
# each run's steps into file work, restart command and gate.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 BEFORE AFTER [--dir DIR] [--nodes N] [--rounds N] [--runs N]" >&2; exit 2; }
before="$1" after="$2"; shift 2
here="$(cd "$(dirname "$0")" && pwd)"
labsrc="$(dirname "$here")"
repo="$(dirname "$labsrc")"
dir=/tmp/kmslab-bench nodes=10 rounds=2 runs=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --nodes) nodes="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d /tmp/pair.XXXXXX)"
for rev in "$before" "$after"; do
  git -C "$repo" worktree add --detach "$work/src-$rev" "$rev" >/dev/null
  (cd "$work/src-$rev" && go build -o "$work/kmsctl-$rev" ./cmd/kmsctl)
  git -C "$repo" worktree remove --force "$work/src-$rev"
done
(cd "$labsrc" && go build -o "$work/driver" ./bench)
"$labsrc/lab" status --dir "$dir" >/dev/null 2>&1 || true   # builds lab/.bin/lab if stale
"$labsrc/lab" down --dir "$dir" >/dev/null 2>&1 || true
"$labsrc/lab" up --nodes "$nodes" --dir "$dir"
for round in $(seq 1 "$rounds"); do
  for rev in "$before" "$after"; do
    echo "=== round $round kmsctl at $rev $(date -u +%T)"
    "$work/driver" -dir "$dir" -kmsctl "$work/kmsctl-$rev" -lab "$labsrc/.bin/lab" -runs "$runs" \
      -cases migrate -load=false -work "$work/round$round-$rev"
  done
done
"$labsrc/lab" down --dir "$dir"
echo "logs: $work"
