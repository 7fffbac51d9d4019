"""Regenerate the style preview thumbnails shown by the studio and the landing page.

    python bench/previews.py [--photo tests/photos/astronaut.png] [--out static/previews]

Renders one crop of a test photo (tests/photos) in every style (method "advanced") with the engine
alone (no Django), and writes static/previews/<style>.jpg at 240x160, each at most 25 KB.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sketches.engine import decode, encode, render  # noqa: E402
from sketches.engine.catalog import STYLES  # noqa: E402

PHOTO = ROOT / "tests" / "photos" / "astronaut.png"
OUT = ROOT / "static" / "previews"
SIZE = (240, 160)
# Rendered at twice the thumbnail size, then reduced: strokes and paper texture stay readable.
RENDER_SCALE = 2
MAX_BYTES = 25 * 1024
# The crop as fractions of the photo (left, top, width); the height follows from the 3:2 aspect.
CROP = (0.0, 0.02, 1.0)


def crop(image: np.ndarray, left: float, top: float, width: float) -> np.ndarray:
    h, w = image.shape[:2]
    cw = round(w * width)
    ch = round(cw * SIZE[1] / SIZE[0])
    x, y = round(w * left), round(h * top)
    y = min(y, h - ch)
    return image[y : y + ch, x : x + cw]


def jpeg_under(image: np.ndarray, limit: int) -> bytes:
    for quality in (86, 82, 78, 74, 70, 65, 60, 55, 50):
        data = encode(image, fmt="jpeg", quality=quality)
        if len(data) <= limit:
            return data
    return data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=PHOTO)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--crop", type=float, nargs=3, default=CROP, metavar=("LEFT", "TOP", "WIDTH"))
    args = parser.parse_args(argv)

    image = decode(args.photo.read_bytes(), max_pixels=50_000_000)
    part = crop(image, *args.crop)
    big = (SIZE[0] * RENDER_SCALE, SIZE[1] * RENDER_SCALE)
    part = cv2.resize(part, big, interpolation=cv2.INTER_AREA if part.shape[1] > big[0] else cv2.INTER_CUBIC)
    args.out.mkdir(parents=True, exist_ok=True)
    for style in STYLES:
        started = time.perf_counter()
        drawing = render(part, style.id, "advanced", strength=0.5, detail=0.5, seed=1)
        if drawing.ndim == 2:
            drawing = cv2.cvtColor(drawing, cv2.COLOR_GRAY2RGB)
        small = cv2.resize(drawing, SIZE, interpolation=cv2.INTER_AREA)
        data = jpeg_under(small, MAX_BYTES)
        (args.out / f"{style.id}.jpg").write_bytes(data)
        print(f"{style.id:<11} {len(data) / 1024:5.1f} KB  {time.perf_counter() - started:5.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
