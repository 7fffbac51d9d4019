"""Golden images: one look per style on two tiny inputs, compared with a tolerance.

A golden catches an unintended change of look (a refactor that shifts a threshold, a texture
that is no longer seeded). OpenCV builds differ in the last bit of some filters, hence the
tolerance rather than byte equality (byte equality within one build is test_render's job).

Regenerate after an intended change of look, and look at the new PNGs before committing:

    UPDATE_GOLDENS=1 .venv/bin/python -m pytest -p no:django --confcutdir=tests/engine \
        tests/engine/test_render_goldens.py
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from sketches.engine import render

GOLDENS = Path(__file__).parent / "goldens"
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"
SIZE = (96, 64)  # width, height
LOOKS = [
    ("pencil", "advanced"),
    ("charcoal", "artistic"),
    ("watercolor", "advanced"),
    ("ink", "basic"),
    ("pastel", "advanced"),
    ("oil", "artistic"),
    ("acrylic", "basic"),
]
MAX_MEAN_DIFF = 2.0
MAX_P99_DIFF = 25.0


def synthetic() -> np.ndarray:
    """Self-contained test card (not shared with other tests, so goldens never drift)."""
    w, h = SIZE
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.dstack([220 * x / w + 20, 180 * y / h + 40, 200 - 150 * x / w])
    img[(y - 30) ** 2 + (x - 34) ** 2 < 15**2] = (235, 205, 70)
    img[44:52, 50:] = (30, 30, 45)
    img[6:26, 66:90][:, ::3] = (250, 250, 250)
    return np.clip(img, 0, 255).astype(np.uint8)


def photo(load_photo) -> np.ndarray:
    img = load_photo("evening-glow.jpg")
    return cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA)


def _path(source: str, style: str, method: str) -> Path:
    return GOLDENS / f"{source}-{style}-{method}.png"


def _read(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, f"missing golden {path.name}; run with UPDATE_GOLDENS=1"
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if img.ndim == 3 else img


def _write(path: Path, img: np.ndarray) -> None:
    GOLDENS.mkdir(exist_ok=True)
    out = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    cv2.imwrite(str(path), out, [cv2.IMWRITE_PNG_COMPRESSION, 9])


@pytest.fixture(scope="module", params=["synthetic", "photo"])
def source(request, load_photo):
    if request.param == "synthetic":
        return "synthetic", synthetic()
    return "photo", photo(load_photo)


@pytest.mark.parametrize(("style", "method"), LOOKS)
def test_look_matches_its_golden(source, style, method):
    name, img = source
    out = render(img, style, method, seed=7)
    path = _path(name, style, method)
    if UPDATE:
        _write(path, out)
        pytest.skip(f"wrote {path.name}")
    golden = _read(path)
    assert golden.shape == out.shape, f"{path.name}: shape {out.shape} != golden {golden.shape}"
    diff = np.abs(out.astype(np.int16) - golden.astype(np.int16))
    mean, p99 = float(diff.mean()), float(np.percentile(diff, 99))
    assert mean < MAX_MEAN_DIFF and p99 < MAX_P99_DIFF, (
        f"{path.name}: mean diff {mean:.2f} (max {MAX_MEAN_DIFF}), 99th pct {p99:.1f} (max {MAX_P99_DIFF}); "
        "if the change of look is intended, regenerate with UPDATE_GOLDENS=1"
    )
