#!/usr/bin/env bash
# Mask export, touchup vs Pillow, on the same masks in the same run.
# Usage: bash benches/mask_export_vs_pillow.sh   (needs ../shared/peers and their Python deps:
# bash ../shared/peers/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${PEERS:-../shared/peers}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet --example mask_export_timing
bin=${CARGO_TARGET_DIR:-target}/release/examples/mask_export_timing
printf "%-10s %12s %12s %8s %14s %14s\n" size touchup_ms pillow_ms speedup touchup_bytes pillow_bytes
for n in 4096 8192; do
  # A sign-editing mask: a sign panel, a lettering band, a few disks of touch-ups.
  python3 "$peers/make_mask.py" "$n" "$n" "$tmp/m$n.png" \
    --rect $((n/8)),$((n/10)),$((n/2)),$((n/8)) --rect $((n/5)),$((n/2)),$((n/3)),$((n/20)) \
    --disk $((n*3/4)),$((n*3/4)),$((n/10)) --disk $((n/3)),$((n*4/5)),$((n/25))
  t=$("$bin" "$tmp/m$n.png" --repeat 7)
  p=$(python3 "$peers/pillow_mask_export.py" "$tmp/m$n.png" --repeat 7)
  python3 - "$t" "$p" "$n" <<'PY'
import json, sys
t, p, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"{n+'²':<10} {t['median_s']*1e3:12.1f} {p['median_s']*1e3:12.1f} {p['median_s']/t['median_s']:7.1f}x {t['data_uri_bytes']:14d} {p['data_uri_bytes']:14d}")
PY
done
