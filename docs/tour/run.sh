#!/usr/bin/env bash
# The screenshot tour of issue 29 under Xvfb, at 1400x900: 4 results, every compare layout,
# keep, use as new seed, the history, reopen, the shortcut list; and a refused connection.
#   python3 benches/area_edit.py --serve 18777 --drift 12 --paint 200,30,40 &   # the stand-in
#   bash docs/tour/run.sh OUT docs/tour/tour.steps
#   bash docs/tour/run.sh OUT docs/tour/refused.steps http://127.0.0.1:9/v1
# The photo is ../shared/testdata/signs/korean.png enlarged 4x (2516x1680, JPEG); the click
# positions in the steps files are for that photo at 1400x900. Fresh data and config folders
# each run (no recovery question).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1; steps=$2; url=${3:-http://127.0.0.1:18777/v1}
rm -rf "$out"; mkdir -p "$out"/{data,config}
photo="$out/korean-big.jpg"
python3 - "$photo" <<'PY'
import sys
from PIL import Image
im = Image.open("../shared/testdata/signs/korean.png").convert("RGB")
im.resize((im.width * 4, im.height * 4), Image.LANCZOS).save(sys.argv[1], quality=92)
PY
XDG_DATA_HOME="$out/data" XDG_CONFIG_HOME="$out/config" RUNWARE_API_URL="$url" \
  RUNWARE_API_KEY=bench-key-0000 TOUCHUP_NO_KEYRING=1 \
  ../shared/tools/xvfb-try --size 1400x900 --out "$out" --steps "$steps" -- \
  "${TOUCHUP_BIN:-target/debug/touchup}" "$photo"
