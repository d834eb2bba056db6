#!/usr/bin/env python3
"""Runs touchup's offline fill and OpenCV's Telea/NS side by side on the same photos and masks
and prints a table: texture ratio, PSNR inside the mask, time (see benches/README.md)."""
import argparse, json, os, subprocess, sys, tempfile
import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("--photos", default=os.path.join(HERE, "..", "..", "shared", "testdata", "photos"))
p.add_argument("--peer", default=os.path.join(HERE, "..", "..", "shared", "peers", "opencv_inpaint.py"))
p.add_argument("--bench-bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target")), "release", "examples", "inpaint_bench"))
p.add_argument("--repeat", type=int, default=3)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--keep", help="directory to keep images, masks and outputs in")
a = p.parse_args()

def sign_mask(h, w, share):
    """A centred sign-shaped rectangle (2.5:1) covering `share` of the image."""
    area = share * w * h
    mw = int(round((area * 2.5) ** 0.5)); mh = int(round(area / mw))
    mw = min(mw, w - 8)
    m = np.zeros((h, w), np.uint8)
    x0, y0 = (w - mw) // 2, (h - mh) // 2
    m[y0:y0 + mh, x0:x0 + mw] = 255
    return m

def laplacian(gray):
    k = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float64)
    return cv2.filter2D(gray.astype(np.float64), -1, k, borderType=cv2.BORDER_REPLICATE)

def texture_ratio(img_bgr, mask):
    gray = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY)
    lap = laplacian(gray)
    inside_dist = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)
    outside_dist = cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, 5)
    inside = (mask > 0) & (inside_dist >= 3)
    ring = (mask == 0) & (outside_dist >= 3) & (outside_dist <= 16)
    return float(lap[inside].std() / max(lap[ring].std(), 1e-9))

def psnr(a, b, mask):
    sel = mask > 0
    d = a[sel].astype(np.float64) - b[sel].astype(np.float64)
    mse = float(np.mean(d ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)

work = a.keep or tempfile.mkdtemp(prefix="inpaint-bench-")
os.makedirs(work, exist_ok=True)
rows = []
for name in ["brick.png", "chelsea.png", "coffee.png", "rocket.jpg"]:
    src = os.path.join(a.photos, name)
    img = cv2.imread(src, cv2.IMREAD_COLOR)
    if img is None:
        sys.exit(f"cannot read {src}")
    h, w = img.shape[:2]
    stem = os.path.splitext(name)[0]
    img_png = os.path.join(work, stem + ".png")
    cv2.imwrite(img_png, img)
    for share in (0.02, 0.10):
        mask = sign_mask(h, w, share)
        tag = f"{stem}-{int(share * 100)}"
        mask_png = os.path.join(work, tag + "-mask.png")
        cv2.imwrite(mask_png, mask)
        row = {"case": f"{stem} {w}x{h} {int(share * 100)}%", "photo": texture_ratio(img, mask)}
        for method in ("telea", "ns"):
            out = os.path.join(work, f"{tag}-{method}.png")
            r = json.loads(subprocess.check_output([sys.executable, a.peer, img_png, mask_png, out, "--method", method, "--repeat", str(a.repeat)]))
            res = cv2.imread(out, cv2.IMREAD_COLOR)
            row[method] = {"tex": texture_ratio(res, mask), "psnr": psnr(res, img, mask), "s": r["median_s"]}
        for method in ("patch", "marching"):
            out = os.path.join(work, f"{tag}-touchup-{method}.png")
            r = json.loads(subprocess.check_output([a.bench_bin, img_png, mask_png, out, "--method", method, "--seed", str(a.seed), "--repeat", str(a.repeat)]))
            res = cv2.imread(out, cv2.IMREAD_COLOR)
            row[method] = {"tex": texture_ratio(res, mask), "psnr": psnr(res, img, mask), "s": r["median_s"]}
        rows.append(row)

print(f"# images, masks and outputs in {work}", file=sys.stderr)
print("| case | photo tex | Telea tex | NS tex | touchup patch tex | touchup marching tex | Telea PSNR | NS PSNR | patch PSNR | marching PSNR | Telea s | patch s | patch/Telea time |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    t, n, pa, ma = r["telea"], r["ns"], r["patch"], r["marching"]
    print(f"| {r['case']} | {r['photo']:.2f} | {t['tex']:.2f} | {n['tex']:.2f} | {pa['tex']:.2f} | {ma['tex']:.2f} | "
          f"{t['psnr']:.1f} | {n['psnr']:.1f} | {pa['psnr']:.1f} | {ma['psnr']:.1f} | {t['s']:.3f} | {pa['s']:.3f} | {pa['s'] / max(t['s'], 1e-9):.1f}x |")
