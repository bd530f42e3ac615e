#!/usr/bin/env bash
# Growth benchmark (BENCHMARKS.md, "Growth from medium to large to 2x large"): for each corpus
# given, a cold check (history cache removed), a warm check and a build, each timed by GNU time.
# usage: AUDITBOOK=target/release/auditbook scripts/bench-growth.sh CORPUS...
set -uo pipefail  # no -e: check and build exit 1 when the corpus has findings
bin="${AUDITBOOK:-target/release/auditbook}"
for d in "$@"; do
  rm -rf "$d/.git/auditbook" "$d-gsite"
  for run in cold warm; do
    /usr/bin/time -f "$d $run %e s wall %U+%S s CPU %M KB" "$bin" check "$d" --as-of 2026-12-07 >/dev/null
  done
  /usr/bin/time -f "$d build %e s wall %U+%S s CPU %M KB" "$bin" build "$d" --out "$d-gsite" --as-of 2026-12-07 >/dev/null
  /usr/bin/time -f "$d git-log %e s wall %U+%S s CPU %M KB" git -C "$d" log --name-only --format=%H >/dev/null
done
