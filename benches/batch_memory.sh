#!/usr/bin/env bash
# Peak memory of `touchup batch` over N small local edits of one 600x400 photo, each with a
# quoted prompt (so each result's lettering is read: the text models run once per result).
# Usage: bash benches/batch_memory.sh [N...]   (default: 1 5 20 100); needs a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TOUCHUP_BIN:-target/release/touchup}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" demo --out "$work/demo.png" 2>/dev/null
# 600x400, the issue's size.
python3 - "$work/demo.png" "$work/photo.png" <<'PY' 2>/dev/null || cp "$work/demo.png" "$work/photo.png"
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((600, 400)).save(sys.argv[2])
PY
words=(OPEN CLOSED BAGELS "NORTH HALL" "FRESH BREAD" COFFEE "EXIT 4" SALE "MAIN ST" TAXI)
for n in "${@:-1 5 20 100}"; do
  for count in $n; do
    manifest="$work/m$count.jsonl"
    : > "$manifest"
    for i in $(seq 1 "$count"); do
      w=${words[$(( (i - 1) % ${#words[@]} ))]}
      # Masks of varying size, so the text models meet varying input sizes.
      x=$(( 40 + (i * 37) % 200 )); y=$(( 30 + (i * 53) % 150 ))
      wd=$(( 120 + (i * 29) % 260 )); ht=$(( 40 + (i * 17) % 90 ))
      printf '{"image": "%s", "rect": "%d,%d,%d,%d", "prompt": "A sign reading '"'"'%s'"'"'", "backend": "local", "seed": %d}\n' \
        "$work/photo.png" "$x" "$y" "$wd" "$ht" "$w" "$i" >> "$manifest"
    done
    out="$work/out$count"
    /usr/bin/time -f "%M %e" -o "$work/rss" "$bin" batch "$manifest" --out "$out" >/dev/null 2>"$work/log" \
      || { echo "batch of $count failed:" >&2; tail -3 "$work/log" >&2; }
    read -r kib secs < <(tail -1 "$work/rss")
    echo "$count edits: peak RSS $((kib / 1024)) MiB, $secs s"
  done
done
