#!/usr/bin/env bash
# Runs benches/grid_view.rs, then prints its criterion medians as a table with the ratio to
# the 16.7 ms frame budget of a 60 Hz display.
# Usage: bash benches/grid_view.sh   (from the crate root; extra cargo arguments, e.g. --config,
# go in BENCH_CARGO_ARGS)
set -euo pipefail
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# shellcheck disable=SC2086
cargo bench --bench grid_view ${BENCH_CARGO_ARGS:-} 2>&1 \
    | grep -Ev "^(Benchmarking|Found| +[0-9]+ \(|\s*$)"
python3 - "$CARGO_TARGET_DIR/criterion/grid_view" <<'PY'
import json, pathlib, sys
budget_ms = 1000.0 / 60.0
root = pathlib.Path(sys.argv[1])
print(f"\n| bench | median | median / {budget_ms:.1f} ms | frames that would fit in one budget |")
print("|---|---:|---:|---:|")
for d in sorted(p for p in root.iterdir() if (p / "new" / "estimates.json").exists()):
    median_ms = json.loads((d / "new" / "estimates.json").read_text())["median"]["point_estimate"] / 1e6
    print(f"| {d.name} | {median_ms * 1000:.0f} µs | {median_ms / budget_ms:.4f} | {budget_ms / median_ms:.0f} |")
PY
