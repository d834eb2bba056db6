#!/usr/bin/env python3
"""RapidOCR (PaddleOCR models on onnxruntime) on the benchmark images, for
benches/text_vs_rapidocr.sh. Prints one JSON object per image: median detection and
recognition seconds over the runs, and the lines read (text, confidence, box).

    python3 text_peer.py --runs 3 --max-side 1600 --threads 2 IMAGE...
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np
from PIL import Image
from rapidocr import RapidOCR


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-side", type=int, default=1600)
    ap.add_argument("--threads", type=int, default=-1)
    ap.add_argument("--det-model", default=None)
    args = ap.parse_args()

    params = {
        "Global.use_cls": False,
        "Global.max_side_len": args.max_side,
        "Global.log_level": "error",
        "EngineConfig.onnxruntime.intra_op_num_threads": args.threads,
    }
    if args.det_model:
        params["Det.model_path"] = args.det_model
    engine = RapidOCR(params=params)
    for path in args.images:
        img = np.array(Image.open(path).convert("RGB"))[:, :, ::-1].copy()  # BGR, as cv2 reads
        engine(img)  # warm-up: loads the models
        det, rec, total = [], [], []
        out = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            out = engine(img)
            total.append(time.perf_counter() - t0)
            det.append(out.elapse_list[0] or 0.0)
            rec.append(out.elapse_list[2] or 0.0)
        lines = []
        if out is not None and out.txts is not None:
            for box, txt, score in zip(out.boxes, out.txts, out.scores):
                lines.append(
                    {"text": txt, "confidence": float(score), "box": np.asarray(box).tolist()}
                )
        print(
            json.dumps(
                {
                    "image": path,
                    "detect_s": statistics.median(det),
                    "recognise_s": statistics.median(rec),
                    "total_s": statistics.median(total),
                    "lines": lines,
                }
            )
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
