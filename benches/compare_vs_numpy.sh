#!/usr/bin/env bash
# Runs the compare benchmark and its NumPy/OpenCV peer in one go, on the same synthetic input.
# Usage: bash benches/compare_vs_numpy.sh   (from the crate root; needs the peers' Python deps)
set -euo pipefail
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo bench --bench compare 2>&1 | grep -E "^result|^compare_|time:"
python3 "$(dirname "$0")/compare_peer.py" --repeat 5
