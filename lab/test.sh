#!/usr/bin/env bash
# Starts a lab, runs every test that needs one (the lab's own tests and
# kmsctl's end-to-end tests), and always tears the lab down again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${LAB_DIR:-/tmp/kmsctl-ci-lab}"
nodes="${LAB_NODES:-3}"
cleanup() { "$here/lab" down --dir "$dir" || true; }
trap cleanup EXIT
"$here/lab" down --dir "$dir" >/dev/null 2>&1 || true
"$here/lab" up --nodes "$nodes" --dir "$dir"
export KMSCTL_LAB_DIR="$dir"
cd "$here"
# -p 1: the lab tests share one lab and must not run packages in parallel.
go test -p 1 -count=1 -timeout 60m ./...
