#!/usr/bin/env bash
# Text detection and recognition: touchup (tract, benches/text_read.rs) and RapidOCR (the same
# PaddleOCR v6 models on onnxruntime, benches/text_peer.py) on the same images in one run:
# a 1600x1200 and a 4000x3000 photo (coffee.png from ../shared/testdata/photos, upscaled, with
# signage lines rendered on it, two of them turned), then a table with ratios and agreement.
#   bash benches/text_vs_rapidocr.sh
# Needs Python 3 with `pip install rapidocr==3.10.0 onnxruntime pillow numpy` (PYTHON=... to pick
# the interpreter; PHOTOS=... to move the photos).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
PYTHON="${PYTHON:-python3}"
PHOTOS="${PHOTOS:-../shared/testdata/photos}"
out="$CARGO_TARGET_DIR/text-bench"
mkdir -p "$out"

"$PYTHON" - "$PHOTOS/coffee.png" assets/fonts "$out" <<'PY'
import sys
from PIL import Image, ImageDraw, ImageFont
photo, fonts, out = sys.argv[1:4]
LINES = [("OPEN 7AM-3PM", "DejaVuSans-Bold.ttf", 0.07, (0.08, 0.10), 0),
         ("Fresh Coffee & Bagels", "DejaVuSerif-Bold.ttf", 0.05, (0.10, 0.35), -8),
         ("WELCOME", "DejaVuSansMono-Bold.ttf", 0.06, (0.45, 0.62), 12),
         ("Espresso 2.50", "DejaVuSans-Bold.ttf", 0.04, (0.12, 0.80), 0)]
for w, h in [(1600, 1200), (4000, 3000)]:
    bg = Image.open(photo).convert("RGB").resize((w, h), Image.BICUBIC)
    for text, font, size, (fx, fy), angle in LINES:
        f = ImageFont.truetype(f"{fonts}/{font}", int(size * h))
        l, t, r, b = f.getbbox(text)
        pad = int(0.3 * (b - t))
        tile = Image.new("RGBA", (r - l + 2 * pad, b - t + 2 * pad), (250, 245, 235, 230))
        ImageDraw.Draw(tile).text((pad - l, pad - t), text, font=f, fill=(20, 20, 30, 255))
        tile = tile.rotate(angle, expand=True, resample=Image.BICUBIC)
        bg.paste(tile, (int(fx * w), int(fy * h)), tile)
    bg.save(f"{out}/photo-{w}x{h}.png")
PY
images=("$out/photo-1600x1200.png" "$out/photo-4000x3000.png")

# shellcheck disable=SC2086
cargo bench ${BENCH_CARGO_ARGS:-} --bench text_read -- "${images[@]}" > "$out/touchup.json"
"$PYTHON" benches/text_peer.py --runs 3 --max-side 1600 "${images[@]}" > "$out/rapidocr.json"
"$PYTHON" benches/text_peer.py --runs 3 --max-side 1600 --threads 1 "${images[@]}" > "$out/rapidocr-1thread.json"

"$PYTHON" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
load = lambda n: [json.loads(l) for l in open(f"{out}/{n}") if l.strip()]
ours, peer, peer1 = load("touchup.json"), load("rapidocr.json"), load("rapidocr-1thread.json")
print("| image | step | touchup (tract) | RapidOCR (onnxruntime, 2 threads) | ratio | onnxruntime 1 thread | ratio |")
print("|---|---|---:|---:|---:|---:|---:|")
for o, p, p1 in zip(ours, peer, peer1):
    name = f"{o['width']}x{o['height']}"
    for step in ("detect_s", "recognise_s"):
        print(f"| {name} | {step[:-2]} | {o[step]:.3f} s | {p[step]:.3f} s | {o[step] / p[step]:.2f}x "
              f"| {p1[step]:.3f} s | {o[step] / p1[step]:.2f}x |")
    print(f"| {name} | first detect (plan built) | {o['first_detect_s']:.3f} s | | | | |")
for o, p in zip(ours, peer):
    a = sorted(l["text"] for l in o["lines"])
    b = sorted(l["text"] for l in p["lines"])
    same = len(set(a) & set(b))
    print(f"\n{o['width']}x{o['height']}: {same} of {max(len(a), len(b))} readings agree")
    print(f"  touchup:  {a}")
    print(f"  RapidOCR: {b}")
PY
