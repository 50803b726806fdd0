#!/usr/bin/env bash
# run.sh: the whole benchmark (docs/performance.md) in one command. Builds
# kmsctl and the driver, runs every case on the lab in DIR as it is (3 nodes
# after `lab up`), then, with --sizes "3 10", takes the lab down, brings it up
# with 10 nodes, runs again, and puts it back to 3 nodes.
#
#   lab/bench/run.sh --dir /tmp/kmslab [--sizes "3 10"] [--runs 3] [-- DRIVER FLAGS]
#
# Needs root (the lab), ansible-core and time (apt), Go.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
labsrc="$(dirname "$here")"
repo="$(dirname "$labsrc")"
dir="${KMSCTL_LAB_DIR:-/tmp/kmslab}"
sizes=""
runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--dir DIR] [--sizes \"3 10\"] [--runs N] [-- driver flags]" >&2; exit 2 ;;
  esac
done

(cd "$repo" && go build -o /tmp/kmsctl-bench ./cmd/kmsctl)
(cd "$labsrc" && go build -o /tmp/kmsctl-bench-driver ./bench)
"$labsrc/lab" status --dir "$dir" >/dev/null   # builds lab/.bin/lab if stale

bench() {
  /tmp/kmsctl-bench-driver -dir "$dir" -kmsctl /tmp/kmsctl-bench -lab "$labsrc/.bin/lab" -runs "$runs" "$@"
}

if [[ -z "$sizes" ]]; then
  bench "$@"
  exit
fi
initial="$(. "$dir/env.sh" && echo "$LAB_NODES")"
for n in $sizes; do
  if [[ "$(. "$dir/env.sh" && echo "$LAB_NODES")" != "$n" ]]; then
    "$labsrc/lab" down --dir "$dir"
    "$labsrc/lab" up --nodes "$n" --dir "$dir"
  fi
  bench "$@"
done
if [[ "$(. "$dir/env.sh" && echo "$LAB_NODES")" != "$initial" ]]; then
  "$labsrc/lab" down --dir "$dir"
  "$labsrc/lab" up --nodes "$initial" --dir "$dir"
fi
