"""Contact sheets of every look (7 styles x 3 methods) on the test photos (tests/photos).

    python bench/gallery.py [--out var/gallery] [--width 800] [--photos a.jpg,b.png]
    python bench/gallery.py --docs          # also writes docs/gallery.jpg (<= 1 MB)

Writes one PNG sheet per photo, a combined sheet (one row of thumbnails per photo) and an
index.html that shows them. Uses the engine only (no Django).
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sketches.engine import render  # noqa: E402
from sketches.engine.catalog import METHODS, STYLES  # noqa: E402

PHOTOS = ROOT / "tests" / "photos"
PHOTO_EXTS = {".jpg", ".jpeg", ".png", ".webp"}
BG = (245, 245, 245)
INK = (30, 30, 30)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def load(path: Path, width: int) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    if w > width:
        rgb = cv2.resize(rgb, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    return rgb


def labelled(img: np.ndarray, text: str, cell_w: int) -> np.ndarray:
    """Resize to the cell width and put a caption strip under it."""
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    h = round(img.shape[0] * cell_w / img.shape[1])
    img = cv2.resize(img, (cell_w, h), interpolation=cv2.INTER_AREA)
    scale = max(0.4, cell_w / 700)
    strip_h = int(28 * scale / 0.6)
    strip = np.full((strip_h, cell_w, 3), BG, np.uint8)
    cv2.putText(strip, text, (8, int(strip_h * 0.7)), FONT, scale, INK, 1 if scale < 0.8 else 2, cv2.LINE_AA)
    return np.vstack([img, strip])


def grid(cells: list[np.ndarray], cols: int, pad: int = 6) -> np.ndarray:
    h = max(c.shape[0] for c in cells)
    w = max(c.shape[1] for c in cells)
    rows = (len(cells) + cols - 1) // cols
    sheet = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), BG, np.uint8)
    for i, c in enumerate(cells):
        r, k = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        sheet[y : y + c.shape[0], x : x + c.shape[1]] = c
    return sheet


def render_all(rgb: np.ndarray) -> tuple[dict[tuple[str, str], np.ndarray], float]:
    looks = {}
    t = time.perf_counter()
    for s in STYLES:
        for m in METHODS:
            looks[(s.id, m.id)] = render(rgb, s.id, m.id)
    return looks, time.perf_counter() - t


def photo_sheet(name: str, rgb: np.ndarray, looks, cell_w: int) -> np.ndarray:
    """Original on top, then one row per style with the three methods side by side."""
    cells = []
    for s in STYLES:
        for m in METHODS:
            cells.append(labelled(looks[(s.id, m.id)], f"{s.name} / {m.name}", cell_w))
    body = grid(cells, cols=len(METHODS))
    head = labelled(rgb, f"original: {name}", cell_w)
    top = np.full((head.shape[0] + 12, body.shape[1], 3), BG, np.uint8)
    x = (body.shape[1] - head.shape[1]) // 2
    top[6 : 6 + head.shape[0], x : x + head.shape[1]] = head
    return np.vstack([top, body])


def save_png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 6])


def save_jpeg_under(path: Path, rgb: np.ndarray, max_bytes: int) -> int:
    for q in (88, 82, 76, 70, 62, 55):
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok and len(buf) <= max_bytes:
            path.write_bytes(buf.tobytes())
            return len(buf)
    raise SystemExit(f"could not fit {path} under {max_bytes} bytes")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "var" / "gallery"))
    ap.add_argument("--width", type=int, default=800, help="inputs are downscaled to this width")
    ap.add_argument("--photos", default="", help="comma-separated file names (default: all)")
    ap.add_argument("--docs", action="store_true", help="also write docs/gallery.jpg")
    ap.add_argument("--docs-photo", default="evening-glow.jpg")
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in args.photos.split(",") if n] or sorted(p.name for p in PHOTOS.iterdir() if p.suffix.lower() in PHOTO_EXTS)
    thumbs_rows, entries = [], []
    for name in names:
        rgb = load(PHOTOS / name, args.width)
        looks, secs = render_all(rgb)
        print(f"{name}: {rgb.shape[1]}x{rgb.shape[0]}, 21 looks in {secs:.1f} s", flush=True)
        sheet_name = f"{Path(name).stem}.png"
        save_png(out / sheet_name, photo_sheet(name, rgb, looks, min(args.width, 480)))
        entries.append((name, sheet_name))
        row = [labelled(rgb, "original", 200)]
        row += [labelled(looks[(s.id, m.id)], f"{s.id}/{m.id}", 200) for s in STYLES for m in METHODS]
        thumbs_rows.append(grid(row, cols=len(row), pad=4))
    if thumbs_rows:
        save_png(out / "all.png", grid(thumbs_rows, cols=1, pad=0))
    (out / "index.html").write_text(_index(entries), encoding="utf-8")
    print(f"wrote {out / 'index.html'}")

    if args.docs:
        rgb = load(PHOTOS / args.docs_photo, 640)
        looks, _ = render_all(rgb)
        cells = [labelled(looks[(s.id, m.id)], f"{s.name} / {m.name}", 300) for s in STYLES for m in METHODS]
        # 7 styles as columns, 3 methods as rows: a wide strip that reads well in a README
        cells = [cells[si * 3 + mi] for mi in range(3) for si in range(len(STYLES))]
        docs = ROOT / "docs"
        docs.mkdir(exist_ok=True)
        size = save_jpeg_under(docs / "gallery.jpg", grid(cells, cols=len(STYLES)), 1_000_000)
        print(f"wrote {docs / 'gallery.jpg'} ({size // 1024} KB)")
    return 0


def _index(entries: list[tuple[str, str]]) -> str:
    items = "\n".join(
        f'<h2>{html.escape(n)}</h2>\n<a href="{html.escape(f)}"><img src="{html.escape(f)}" loading="lazy"></a>'
        for n, f in entries
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sketch engine gallery</title>
<style>body{{font-family:sans-serif;margin:2rem;background:#fafafa}}img{{max-width:100%;border:1px solid #ddd}}</style>
</head><body>
<h1>Sketch engine: 7 styles x 3 methods</h1>
<p><a href="all.png">All photos on one sheet</a></p>
{items}
</body></html>
"""


if __name__ == "__main__":
    raise SystemExit(main())
