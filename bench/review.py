"""Blind review kit: can someone who sees a tile alone name its medium?

    python bench/review.py make  [--out var/review] [--photos a.jpg,b.png] [--width 1600] [--seed N]
    python bench/review.py score ANSWERS [--out var/review]
    python bench/review.py reveal [--out var/review] [--docs docs/looks]

``make`` renders the 21 looks of every photo in tests/photos (or of --photos, paths or names),
shuffles them per photo and numbers them. It writes, under OUT/sheets/ (give only this folder to
a reviewer):

- ``<photo>/sheet.png``: the 21 numbered tiles of one photo;
- ``<photo>/tile-NN.png``: each tile alone, at review size;
- ``<photo>/crop-smooth-NN.png`` and ``crop-detail-NN.png``: 100 % crops of the smoothest and the
  busiest part of the photo, where noise turns into fake texture and strokes show;
- ``ANSWERS.txt``: the form to fill in, one line ``<photo> <NN> <medium>`` per tile.

and the key to OUT/key.json, which the reviewer must not see. ``score`` compares a filled-in form
with the key and prints the score per photo and every miss with what the reviewer called it;
``reveal`` then writes one labelled sheet of 100 % crops per photo (for docs/LOOKS.md).
Media: pencil, charcoal, watercolor, ink, pastel, oil, acrylic, or photo (a filtered photograph).
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sketches.engine import render  # noqa: E402
from sketches.engine.catalog import METHOD_IDS, STYLE_IDS  # noqa: E402

PHOTOS = ROOT / "tests" / "photos"
PHOTO_EXTS = {".jpg", ".jpeg", ".png", ".webp"}
MEDIA = (*STYLE_IDS, "photo")
CROP = 320
TILE_WIDTH = 640
SHEET_COLUMNS = 7
FONT = cv2.FONT_HERSHEY_SIMPLEX


def load(path: Path, width: int) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    h, w = bgr.shape[:2]
    if w > width:
        bgr = cv2.resize(bgr, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def crop_origins(image: np.ndarray) -> dict[str, tuple[int, int]]:
    """Top-left corners of the smoothest and the busiest CROP x CROP window (by gradient energy)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = np.abs(cv2.Laplacian(cv2.GaussianBlur(gray, (0, 0), 1.0), cv2.CV_32F))
    # mid-tones only for "smooth": a blown-out sky or a black shadow hides what noise does
    luma = cv2.blur(gray, (CROP, CROP))
    mean_energy = cv2.blur(energy, (CROP, CROP))
    h, w = gray.shape
    half = CROP // 2
    valid = np.zeros_like(mean_energy, bool)
    valid[half : h - half, half : w - half] = True
    smooth_score = np.where(valid & (luma > 40) & (luma < 235), mean_energy, np.inf)
    if not np.isfinite(smooth_score).any():
        smooth_score = np.where(valid, mean_energy, np.inf)
    detail_score = np.where(valid, mean_energy, -np.inf)
    sy, sx = np.unravel_index(np.argmin(smooth_score), smooth_score.shape)
    dy, dx = np.unravel_index(np.argmax(detail_score), detail_score.shape)
    return {"smooth": (int(sx - half), int(sy - half)), "detail": (int(dx - half), int(dy - half))}


def as_rgb(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image


def numbered(image: np.ndarray, number: int, width: int) -> np.ndarray:
    h = round(image.shape[0] * width / image.shape[1])
    tile = cv2.resize(image, (width, h), interpolation=cv2.INTER_AREA)
    strip = np.full((34, width, 3), 255, np.uint8)
    cv2.putText(strip, f"{number:02d}", (8, 25), FONT, 0.8, (0, 0, 0), 2, cv2.LINE_AA)
    return np.vstack([tile, strip])


def sheet(tiles: list[np.ndarray], columns: int = SHEET_COLUMNS, pad: int = 8) -> np.ndarray:
    h = max(t.shape[0] for t in tiles)
    w = max(t.shape[1] for t in tiles)
    rows = -(-len(tiles) // columns)
    out = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, 3), 200, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return out


def write_rgb(path: Path, image: np.ndarray, quality: int = 90) -> None:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.suffix == ".jpg" else []
    if not cv2.imwrite(str(path), cv2.cvtColor(as_rgb(image), cv2.COLOR_RGB2BGR), params):
        raise SystemExit(f"cannot write {path}")


def photo_paths(spec: str) -> list[Path]:
    if not spec:
        return sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in PHOTO_EXTS)
    paths = []
    for item in spec.split(","):
        path = Path(item)
        paths.append(path if path.exists() else PHOTOS / item)
    return paths


def make(args: argparse.Namespace) -> None:
    out = Path(args.out)
    sheets = out / "sheets"
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    rng = random.Random(seed)
    looks = [(s, m) for s in STYLE_IDS for m in METHOD_IDS]
    key: dict[str, dict[str, str]] = {}
    form: list[str] = []
    for path in photo_paths(args.photos):
        name = path.stem
        folder = sheets / name
        folder.mkdir(parents=True, exist_ok=True)
        image = load(path, args.width)
        origins = crop_origins(image)
        order = looks[:]
        rng.shuffle(order)
        key[name] = {}
        tiles = []
        for number, (style, method) in enumerate(order, start=1):
            drawing = as_rgb(render(image, style, method))
            key[name][f"{number:02d}"] = f"{style}/{method}"
            write_rgb(
                folder / f"tile-{number:02d}.png",
                cv2.resize(
                    drawing, (TILE_WIDTH, round(drawing.shape[0] * TILE_WIDTH / drawing.shape[1])), interpolation=cv2.INTER_AREA
                ),
            )
            for kind, (x, y) in origins.items():
                write_rgb(folder / f"crop-{kind}-{number:02d}.png", drawing[y : y + CROP, x : x + CROP])
            tiles.append(numbered(drawing, number, 360))
            form.append(f"{name} {number:02d} ?")
            print(f"{name} {number:02d}", flush=True)
        write_rgb(folder / "sheet.png", sheet(tiles))
    (sheets / "ANSWERS.txt").write_text(
        "# One line per tile: <photo> <number> <medium>; media: " + ", ".join(MEDIA) + "\n" + "\n".join(form) + "\n"
    )
    (out / "key.json").write_text(json.dumps({"seed": seed, "looks": key}, indent=1))
    print(f"sheets in {sheets} (give only these to the reviewer); key in {out / 'key.json'}")


def score(args: argparse.Namespace) -> None:
    key = json.loads((Path(args.out) / "key.json").read_text())["looks"]
    answers: dict[tuple[str, str], str] = {}
    for line in Path(args.answers).read_text().splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 3:
            answers[(parts[0], parts[1].zfill(2))] = parts[2].lower().strip(".,;")
    total = right = 0
    for photo, tiles in key.items():
        misses = []
        for number, look in sorted(tiles.items()):
            said = answers.get((photo, number), "?")
            if said == look.split("/")[0]:
                right += 1
            else:
                misses.append(f"{look} called {said!r} (tile {number})")
        total += len(tiles)
        hits = len(tiles) - len(misses)
        print(f"{photo}: {hits}/{len(tiles)}" + ("" if not misses else "; misses: " + ", ".join(misses)))
    print(f"all photos: {right}/{total}")


def reveal(args: argparse.Namespace) -> None:
    """After scoring: one labelled sheet of 100 % crops per photo (smooth | detail), in look order."""
    out = Path(args.out)
    key = json.loads((out / "key.json").read_text())["looks"]
    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    half = CROP // 4  # the middle of each crop, still at 100 %: keeps the docs small
    for photo, tiles in key.items():
        by_look = {look: number for number, look in tiles.items()}
        cells = []
        for style in STYLE_IDS:
            for method in METHOD_IDS:
                number = by_look[f"{style}/{method}"]
                pair = []
                for kind in ("smooth", "detail"):
                    crop = cv2.cvtColor(cv2.imread(str(out / "sheets" / photo / f"crop-{kind}-{number}.png")), cv2.COLOR_BGR2RGB)
                    c = crop.shape[0] // 2
                    pair.append(crop[c - half : c + half, c - half : c + half])
                cell = np.hstack(pair)
                strip = np.full((24, cell.shape[1], 3), 255, np.uint8)
                cv2.putText(strip, f"{style}/{method}", (6, 17), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
                cells.append(np.vstack([cell, strip]))
        path = docs / f"crops-{photo}.jpg"
        write_rgb(path, sheet(cells, columns=len(METHOD_IDS)), quality=82)
        print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_make = sub.add_parser("make", help="render, shuffle and number the tiles; write sheets and key")
    p_make.add_argument("--out", default=str(ROOT / "var" / "review"))
    p_make.add_argument("--photos", default="", help="comma-separated paths or names in tests/photos (default: all)")
    p_make.add_argument("--width", type=int, default=1600, help="render width in px (crops are 100 %% of it)")
    p_make.add_argument("--seed", type=int, default=None, help="shuffle seed (default: random)")
    p_make.set_defaults(func=make)
    p_score = sub.add_parser("score", help="score a filled-in ANSWERS file against the key")
    p_score.add_argument("answers")
    p_score.add_argument("--out", default=str(ROOT / "var" / "review"))
    p_score.set_defaults(func=score)
    p_reveal = sub.add_parser("reveal", help="after scoring: labelled sheets of 100 %% crops per photo, e.g. for docs/LOOKS.md")
    p_reveal.add_argument("--out", default=str(ROOT / "var" / "review"))
    p_reveal.add_argument("--docs", default=str(ROOT / "docs" / "looks"))
    p_reveal.set_defaults(func=reveal)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
