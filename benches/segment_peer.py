#!/usr/bin/env python3
"""The object selector's peer: the same MobileSAM ONNX files run with onnxruntime, for
benches/README.md (encoder and per-click time) and to cross-check touchup's values.

    pip install onnxruntime numpy pillow
    python3 benches/segment_peer.py PHOTO [--point X,Y]... [--threads N] [--out MASK.png]
    python3 benches/segment_peer.py --fixed      # the test's fixed picture: embedding values

Pre-processing as in SAM: long side to 1024 (bilinear), ImageNet mean/std, zero padding to
1024x1024 at the bottom and right, channels first.
"""

import argparse
import os
import resource
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.environ.get("TOUCHUP_MODELS", os.path.join(HERE, "..", "assets", "models"))
MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def fixed_picture():
    """tests/segment.rs's fixed picture: colour ramps and a yellow disc."""
    w, h = 320, 240
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // 320).astype(np.uint8)
    img[..., 1] = (y * 255 // 240).astype(np.uint8)
    img[..., 2] = 90
    d = np.sqrt((x - 200.0) ** 2 + (y - 110.0) ** 2)
    img[d < 50.0] = [230, 200, 30]
    return Image.fromarray(img, "RGB")


def preprocess(img):
    w, h = img.size
    scale = 1024.0 / max(w, h)
    sw, sh = int(w * scale + 0.5), int(h * scale + 0.5)
    small = np.asarray(img.resize((sw, sh), Image.BILINEAR), dtype=np.float32)
    x = np.zeros((1, 3, 1024, 1024), dtype=np.float32)
    x[0, :, :sh, :sw] = ((small - MEAN) / STD).transpose(2, 0, 1)
    return x, (sw, sh)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("photo", nargs="?")
    ap.add_argument("--point", action="append", default=[])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--fixed", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--clicks", type=int, default=5)
    a = ap.parse_args()
    so = ort.SessionOptions()
    if a.threads:
        so.intra_op_num_threads = a.threads
    t = time.perf_counter()
    enc = ort.InferenceSession(os.path.join(MODELS, "mobilesam_encoder.onnx"), so)
    dec = ort.InferenceSession(os.path.join(MODELS, "mobilesam_decoder_lowres.onnx"), so)
    print(f"load {time.perf_counter() - t:.2f} s")
    img = fixed_picture() if a.fixed else Image.open(a.photo).convert("RGB")
    w, h = img.size
    t = time.perf_counter()
    x, (sw, sh) = preprocess(img)
    t1 = time.perf_counter()
    emb = enc.run(None, {"image": x})[0]
    t2 = time.perf_counter()
    print(f"{w}x{h}: pre-processing {t1 - t:.2f} s, encoder {t2 - t1:.2f} s")
    flat = emb.reshape(-1)
    print(f"embedding mean {flat.mean():.6f} rms {np.sqrt((flat ** 2).mean()):.6f}")
    for i in [0, 4096 * 17 + 64 * 20 + 11, 4096 * 63 + 64 * 5 + 40, 4096 * 128 + 64 * 32 + 32,
              4096 * 200 + 64 * 60 + 3, 4096 * 255 + 64 * 63 + 63]:
        print(f"  ({i}, {flat[i]:.6f}),")
    points = [tuple(float(v) for v in p.split(",")) for p in a.point] or [(w / 2, h / 2)]
    coords = np.array([[[px * sw / w, py * sh / h] for px, py in points] + [[0, 0]]],
                      dtype=np.float32)
    labels = np.array([[1] * len(points) + [-1]], dtype=np.float32)
    feeds = {
        "image_embeddings": emb,
        "point_coords": coords,
        "point_labels": labels,
        "mask_input": np.zeros((1, 1, 256, 256), dtype=np.float32),
        "has_mask_input": np.zeros(1, dtype=np.float32),
    }
    times = []
    for _ in range(max(1, a.clicks)):
        t = time.perf_counter()
        iou, low = dec.run(None, feeds)
        times.append(time.perf_counter() - t)
    print(f"decoder {np.median(times) * 1000:.0f} ms (median of {len(times)}); iou {iou[0]}")
    best = int(np.argmax(iou[0][1:]) + 1) if len(points) == 1 else 0
    print(f"best {best}: {int((low[0, best] > 0).sum())} low-res cells")
    if a.out:
        m = Image.fromarray(low[0, best].astype(np.float32), "F").resize((1024, 1024),
                                                                          Image.BILINEAR)
        m = np.asarray(m)[:sh, :sw]
        m = Image.fromarray(((m > 0) * 255).astype(np.uint8)).resize((w, h), Image.NEAREST)
        m.save(a.out)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
