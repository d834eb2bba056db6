#!/usr/bin/env python3
"""Rebuilds the inpainting evaluation photos in this folder (see SOURCES.md) from the packages
they come from: scikit-image's bundled sample data (PyPI `scikit-image`) and Blender's CC0
HDRIs (Debian `blender-data`, datafiles/studiolights/world/*.exr, read with PyPI `OpenEXR`).

Usage: make_set.py BLENDER_WORLD_DIR   (e.g. a `dpkg-deb -x blender-data_*.deb` tree's
usr/share/blender/datafiles/studiolights/world)
"""
import json, os, sys
import numpy as np
import cv2

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, rgb):
    cv2.imwrite(os.path.join(HERE, name + ".png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_PNG_COMPRESSION, 9])


def gray3(g):
    return np.dstack([g, g, g])


def skimage_photos():
    import skimage.data as d
    save("sk_astronaut", d.astronaut()[0:320, 0:400])          # flag stripes, suit, backdrop
    save("sk_camera", gray3(d.camera()[192:512, 0:512]))       # grass field, tripod legs
    save("sk_grass", gray3(d.grass()[0:320, 0:400]))
    save("sk_gravel", gray3(d.gravel()[0:320, 0:400]))
    save("sk_text", gray3(d.text()))                           # handwriting on ruled paper
    save("sk_coins", gray3(d.coins()))                         # a grid of coins on cloth


def hdri(world, name):
    import OpenEXR
    with OpenEXR.File(os.path.join(world, name + ".exr")) as e:
        rgb = np.asarray(e.channels()["RGB"].pixels, dtype=np.float32)
    # Exposure to a mid-grey median, Reinhard tone curve, display gamma.
    k = 0.18 / max(float(np.median(rgb.mean(axis=2))), 1e-6)
    x = rgb * k
    x = np.clip(x / (1.0 + x), 0.0, 1.0) ** (1.0 / 2.2)
    return (x * 255.0 + 0.5).astype(np.uint8)


def hdri_photos(world):
    crops = {
        # name: (hdri, x0, y0, x1, y1) in the 1024x512 panorama
        "hdr_courtyard_paving": ("courtyard", 100, 330, 520, 500),   # herringbone brick paving
        "hdr_courtyard_roof": ("courtyard", 20, 0, 380, 160),       # corrugated roof, ribs
        "hdr_courtyard_wall": ("courtyard", 590, 130, 880, 350),    # painted wall, window, shutter
        "hdr_city_facades": ("city", 0, 120, 400, 280),             # office facades, window grids
        "hdr_interior_wallpaper": ("interior", 160, 130, 480, 330),  # lattice wallpaper, TV
        "hdr_interior_rug": ("interior", 590, 385, 1024, 512),      # striped rug
        "hdr_sunset_paving": ("sunset", 100, 320, 620, 490),        # stone slabs, kerb
        "hdr_forest_fence": ("forest", 600, 290, 1024, 450),        # bamboo fence, pebbles
        "hdr_studio_curtain": ("studio", 560, 170, 900, 360),       # curtain folds (fabric)
        "hdr_sunrise_field": ("sunrise", 0, 390, 512, 512),         # grass with tyre tracks
    }
    cache = {}
    for name, (src, x0, y0, x1, y1) in crops.items():
        if src not in cache:
            cache[src] = hdri(world, src)
        save(name, cache[src][y0:y1, x0:x1])


def framed_panel(base, colour, frame, box):
    """A flat sign panel with a frame painted on a textured photo (a sign on a wall)."""
    img = base.copy()
    x0, y0, x1, y1 = box
    img[y0:y1, x0:x1] = frame
    f = 6
    img[y0 + f:y1 - f, x0 + f:x1 - f] = colour
    # A little sensor noise so that the panel is flat the way a photo is, not exactly.
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, 1.5, img[y0:y1, x0:x1].shape)
    img[y0:y1, x0:x1] = np.clip(img[y0:y1, x0:x1] + noise, 0, 255).astype(np.uint8)
    return img


def panel_photos():
    """Framed panels on textured photos; their inner (flat) boxes go to panels.json."""
    boxes = {}
    paving = cv2.cvtColor(cv2.imread(os.path.join(HERE, "hdr_courtyard_paving.png")), cv2.COLOR_BGR2RGB)
    h, w = paving.shape[:2]
    box = (w // 2 - 150, h // 2 - 50, w // 2 + 150, h // 2 + 50)
    save("panel_on_paving", framed_panel(paving, (34, 82, 56), (200, 170, 60), box))
    boxes["panel_on_paving"] = [box[0] + 6, box[1] + 6, box[2] - 6, box[3] - 6]
    gravel = cv2.cvtColor(cv2.imread(os.path.join(HERE, "sk_gravel.png")), cv2.COLOR_BGR2RGB)
    h, w = gravel.shape[:2]
    box = (w // 2 - 140, h // 2 - 60, w // 2 + 140, h // 2 + 60)
    save("panel_on_gravel", framed_panel(gravel, (236, 232, 220), (40, 40, 40), box))
    boxes["panel_on_gravel"] = [box[0] + 6, box[1] + 6, box[2] - 6, box[3] - 6]
    with open(os.path.join(HERE, "panels.json"), "w") as f:
        json.dump(boxes, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    skimage_photos()
    hdri_photos(sys.argv[1])
    panel_photos()
