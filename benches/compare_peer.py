#!/usr/bin/env python3
"""The peer for benches/compare.rs: the same keep-outside composite and outside-mask figures
written the way a Python tool would (NumPy + OpenCV's exact Euclidean distance transform), on
the same synthetic 4096x4096 original, sign mask and 4 results. Prints JSON with median
seconds per step over --repeat runs.

    python3 benches/compare_peer.py --repeat 5
"""
import argparse
import json
import statistics
import time

import cv2
import numpy as np

SIDE = 4096
FEATHER = 4
THRESHOLD = 16


def original():
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.uint32)
    n = ((x * np.uint32(2654435761)) ^ (y * np.uint32(40503))) >> np.uint32(27)
    img = np.empty((SIDE, SIDE, 4), np.uint8)
    img[..., 0] = ((x // 16) & 255).astype(np.uint8) ^ n.astype(np.uint8)
    img[..., 1] = (y // 16).astype(np.uint8)
    img[..., 2] = ((x + y) // 32).astype(np.uint8)
    img[..., 3] = 255
    return img


def sign_mask():
    m = np.zeros((SIDE, SIDE), np.uint8)
    m[900:1400, 1200:2800] = 255
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    m[(x - 3000) ** 2 + (y - 2600) ** 2 <= 300 * 300] = 255
    return m


def results(orig, mask):
    out = []
    marked = mask >= 128
    for k in range(4):
        r = orig.copy()
        if k == 1:
            r[..., 0] = np.minimum(r[..., 0].astype(np.uint16) + 3, 255).astype(np.uint8)
        if k == 3:
            r[3000:3400, 100:600, 2] += 80
        r[marked] = (40 * k, 200, 90, 255)
        out.append(r)
    return out


def feather_weights(mask):
    # Distance from every unmarked pixel to the nearest marked one (exact L2).
    dist = cv2.distanceTransform((mask < 128).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    w = np.clip((FEATHER + 1 - dist) / (FEATHER + 1), 0.0, 1.0)
    w[dist > FEATHER] = 0.0
    return (np.round(w * 255)).astype(np.uint8)


def composite(orig, res, w):
    wf = w.astype(np.uint32)[..., None]
    return ((orig.astype(np.uint32) * (255 - wf) + res.astype(np.uint32) * wf + 127) // 255).astype(np.uint8)


def outside(orig, res, w):
    outside_px = w == 0
    d = np.abs(orig.astype(np.int16) - res.astype(np.int16)).max(axis=2)
    d_out = d[outside_px]
    changed = int((d_out >= THRESHOLD).sum())
    return {
        "outside": int(d_out.size),
        "changed": changed,
        "mean": float(d_out.mean()) if d_out.size else 0.0,
        "max": int(d_out.max()) if d_out.size else 0,
    }


def timed(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    orig = original()
    mask = sign_mask()
    res = results(orig, mask)
    t_feather, w = timed(lambda: feather_weights(mask), a.repeat)
    t_comp, _ = timed(lambda: [composite(orig, r, w) for r in res], a.repeat)
    t_out, figs = timed(lambda: [outside(orig, r, w) for r in res], a.repeat)
    print(json.dumps({
        "feather_mask_r4_s": t_feather,
        "composite_4_results_s": t_comp,
        "outside_figures_4_results_s": t_out,
        "figures": figs,
    }, indent=1))


if __name__ == "__main__":
    main()
