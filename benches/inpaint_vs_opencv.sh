#!/usr/bin/env bash
# Builds the Rust side in release and runs it beside OpenCV on the evaluation set
# (benches/inpaint_set) and, with --photos DIR, on more photos.
# Usage: benches/inpaint_vs_opencv.sh [--photos DIR] [--keep DIR] [--pictures DIR]
#        [--repeat N] [--seed N] [--method auto|patch|marching] [--only NAME]
# Needs the peers' Python packages (../shared/peers/setup.sh: OpenCV, NumPy).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../target}"
cargo build --release --example inpaint_bench --manifest-path "$here/../Cargo.toml" >&2
exec python3 "$here/inpaint_vs_opencv.py" "$@"
