#!/usr/bin/env bash
# Magic wand and grow-by-20 on the same 4096x4096 input: touchup (criterion) and OpenCV
# (cv2.floodFill, cv2.dilate with an elliptical kernel) in one run, then a table with ratios.
#   bash benches/select_vs_opencv.sh            (PEERS=/path/to/peers to move the Python peer)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
PEERS="${PEERS:-/work/shared/peers}"
out="$CARGO_TARGET_DIR/select-bench"

# BENCH_CARGO_ARGS lets a shared machine give the crate its own build hash, e.g.
# BENCH_CARGO_ARGS="--config profile.release.package.touchup.codegen-units=15".
# shellcheck disable=SC2086
cargo bench ${BENCH_CARGO_ARGS:-} --bench mask_select -- select_4096 2>&1 | grep -Ev '^\s*$'

python3 "$PEERS/opencv_mask_ops.py" "$out/photo.png" --seed 1500,1500 --tolerance 20 \
    --mask "$out/wand_mask.png" --grow 20 --repeat 7 > "$out/opencv.json"

python3 - "$CARGO_TARGET_DIR" "$out" <<'PY'
import json, sys
target, out = sys.argv[1], sys.argv[2]
def median_ms(name):
    with open(f"{target}/criterion/select_4096/{name}/new/estimates.json") as f:
        return json.load(f)["median"]["point_estimate"] / 1e6
ours = json.load(open(f"{out}/touchup.json"))
cv = json.load(open(f"{out}/opencv.json"))
rows = [
    ("wand (flood fill)", median_ms("wand"), cv["wand_median_s"] * 1e3, ours["wand_pixels"], cv["wand_pixels"]),
    ("grow 20 px (disk)", median_ms("grow_20"), cv["grow_median_s"] * 1e3, ours["grown_pixels"], cv["grown_pixels"]),
]
print(f"\ninput {ours['width']}x{ours['height']}, seed {ours['seed']}")
print("| operation | touchup median | OpenCV median | touchup / OpenCV | pixels touchup | pixels OpenCV |")
print("|---|---:|---:|---:|---:|---:|")
for name, t, c, pt, pc in rows:
    print(f"| {name} | {t:.1f} ms | {c:.1f} ms | {t / c:.2f}x | {pt} | {pc} |")
print(f"| shrink 20 px (disk) | {median_ms('shrink_20'):.1f} ms | - | - | - | - |")
PY
