#!/usr/bin/env python3
"""Large photo, small sign, through Runware's protocol: `touchup edit --area mask` against
`--area whole`, timed to the first result, with the bytes uploaded and downloaded and the peak
memory of each run.

A stand-in for Runware's REST API runs in this process on 127.0.0.1 (sync imageInference and
URL output, as RUNWARE.md describes them): it answers each task with the seed image it was sent,
brightened by 12 levels where the mask is white (so the answer is a real picture of the sent
size), and counts the bytes of every request and response.

The photo is made here: 8000x6000 (a smooth gradient with fine noise, JPEG q92) with a 400x160
sign masked at (5200, 1800).

Run: python3 benches/area_edit.py [--exe target/release/touchup] [--repeat 3]
Figures go to benches/README.md ("Large photo, small sign, through Runware").
"""

import argparse
import base64
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw

W, H = 8000, 6000
SIGN = (5200, 1800, 400, 160)
KEY = "bench-key-0000"

STATS = {"received": 0, "sent": 0, "seeds": []}
# What the stand-in does to the seed: levels added everywhere (a generator's drift), and the
# masked pixels tinted toward this colour (half and half), or brightened by 12 when None.
LOOK = {"drift": 0, "paint": None}
IMAGES = {}
LOCK = threading.Lock()


def decode_uri(text):
    if text.startswith("data:"):
        text = text.split(",", 1)[1]
    return Image.open(io.BytesIO(base64.b64decode(text)))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        with LOCK:
            STATS["sent"] += len(body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        m = re.match(r"^/images/([0-9a-f-]+)\.png$", self.path)
        if not m or m.group(1) not in IMAGES:
            return self.reply(404, b"{}")
        self.reply(200, IMAGES[m.group(1)], "image/png")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with LOCK:
            STATS["received"] += n
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self.reply(401, json.dumps({"errors": [{"code": "invalidApiKey"}]}).encode())
        tasks = json.loads(body)
        data = []
        for task in tasks:
            if task.get("taskType") != "imageInference":
                continue
            seed = decode_uri(task["inputs"]["seedImage"]).convert("RGB")
            mask = decode_uri(task["inputs"]["maskImage"]).convert("L")
            with LOCK:
                STATS["seeds"].append(seed.size)
            if LOOK["paint"] is None:
                changed = seed.point(lambda v: min(255, v + 12))
            else:
                changed = Image.blend(seed, Image.new("RGB", seed.size, LOOK["paint"]), 0.6)
            seed.paste(changed, (0, 0), mask)
            if LOOK["drift"]:
                d = LOOK["drift"]
                seed = seed.point(lambda v: max(0, min(255, v + d)))
            out = io.BytesIO()
            seed.save(out, "PNG", compress_level=1)
            image_uuid = str(uuid.uuid4())
            IMAGES[image_uuid] = out.getvalue()
            port = self.server.server_address[1]
            for _ in range(task.get("numberResults", 1)):
                data.append({
                    "taskType": "imageInference", "taskUUID": task["taskUUID"],
                    "imageUUID": image_uuid, "seed": 1,
                    "imageURL": f"http://127.0.0.1:{port}/images/{image_uuid}.png",
                })
        self.reply(200, json.dumps({"data": data}).encode())


def make_inputs(folder):
    photo = os.path.join(folder, "big.jpg")
    mask = os.path.join(folder, "mask.png")
    if not os.path.exists(photo):
        im = Image.linear_gradient("L").resize((W, H)).convert("RGB")
        noise = Image.effect_noise((W, H), 12).convert("RGB")
        Image.blend(im, noise, 0.15).save(photo, quality=92)
        m = Image.new("L", (W, H))
        x, y, w, h = SIGN
        ImageDraw.Draw(m).rectangle([x, y, x + w - 1, y + h - 1], fill=255)
        m.save(mask)
    return photo, mask


def run(exe, folder, url, area):
    out = os.path.join(folder, f"out-{area}")
    with LOCK:
        STATS["received"] = STATS["sent"] = 0
        STATS["seeds"] = []
    env = dict(os.environ, RUNWARE_API_KEY=KEY, RUNWARE_API_URL=url, TOUCHUP_NO_KEYRING="1")
    cmd = ["/usr/bin/time", "-v", exe, "edit", "--image", os.path.join(folder, "big.jpg"),
           "--mask", os.path.join(folder, "mask.png"), "--prompt", "a sign that says OPEN",
           "--area", area, "--out", out]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    first = None
    for line in proc.stdout:
        if first is None and line.strip().endswith(".png"):
            first = time.monotonic() - start
    err = proc.stderr.read()
    proc.wait()
    total = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"touchup edit --area {area} failed:\n{err}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    with LOCK:
        return {
            "first": first, "total": total,
            "rss_mib": int(rss.group(1)) / 1024 if rss else float("nan"),
            "up": STATS["received"], "down": STATS["sent"], "seeds": list(STATS["seeds"]),
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", default="target/release/touchup")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--serve", type=int, default=None, metavar="PORT",
                    help="only run the stand-in on this port (for trying the editor by hand)")
    ap.add_argument("--drift", type=int, default=0, help="levels added to every pixel")
    ap.add_argument("--paint", default=None, help="R,G,B the masked pixels are tinted toward")
    args = ap.parse_args()
    LOOK["drift"] = args.drift
    if args.paint:
        LOOK["paint"] = tuple(int(v) for v in args.paint.split(","))
    if args.serve is not None:
        server = ThreadingHTTPServer(("127.0.0.1", args.serve), Handler)
        print(f"RUNWARE_API_URL=http://127.0.0.1:{server.server_address[1]}/v1 "
              f"RUNWARE_API_KEY={KEY}", flush=True)
        server.serve_forever()
    folder = args.dir or tempfile.mkdtemp(prefix="area-edit-")
    make_inputs(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    rows = {}
    for area in ["mask", "whole"]:
        runs = [run(args.exe, folder, url, area) for _ in range(args.repeat)]
        rows[area] = runs
    print(f"area_edit: {W}x{H} JPEG q92, a {SIGN[2]}x{SIGN[3]} sign, 1 result, "
          f"{args.repeat} runs each, medians")
    print("| --area | sent | to the first result | total | uploaded | downloaded | max RSS |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for area, runs in rows.items():
        med = lambda k: statistics.median(r[k] for r in runs)
        sent = runs[0]["seeds"][0] if runs[0]["seeds"] else ("?", "?")
        print(f"| {area} | {sent[0]}x{sent[1]} | {med('first'):.2f} s | {med('total'):.2f} s | "
              f"{med('up') / 1e6:.2f} MB | {med('down') / 1e6:.2f} MB | {med('rss_mib'):.0f} MiB |")
    m, w = (statistics.median(r["first"] for r in rows[k]) for k in ("mask", "whole"))
    print(f"ratio whole/mask to the first result: {w / m:.2f}x")


if __name__ == "__main__":
    main()
