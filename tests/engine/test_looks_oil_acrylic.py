"""What makes oil read as oil and acrylic as acrylic, as properties that can fail.

* oil: raised brush strokes lit from one side at every method, ``basic`` included (not a
  softened photo), even where the photo is smooth; strokes run along the forms; glints on
  the ridges (advanced, artistic).
* acrylic: flat opaque areas stay one colour; smooth gradients are brushed blends, not
  stepped bands; matte (no glints brighter than the paint).
* both: sensor noise is not turned into texture (texture gain <= 1, as bench/texture_gain.py).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sketches.engine import render

METHODS = ("basic", "advanced", "artistic")


def _gradient(w: int = 600, h: int = 400) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = x / (w - 1), y / (h - 1)
    rgb = np.dstack([90 + 120 * u + 20 * v, 140 + 60 * v - 30 * u, 230 - 70 * u - 40 * v])
    return np.clip(rgb, 0, 255)


def _luma(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _texture_gain(style: str, method: str) -> float:
    clean = _gradient()
    noise = np.random.default_rng(1).normal(0.0, 1.0, clean.shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
    noisy = clean + noise * (3.0 / noise.std())
    a = _luma(render(np.round(clean).astype(np.uint8), style, method, seed=7))
    b = _luma(render(np.clip(np.round(noisy), 0, 255).astype(np.uint8), style, method, seed=7))

    def block_std(x: np.ndarray) -> np.ndarray:
        h, w = (x.shape[0] // 16) * 16, (x.shape[1] // 16) * 16
        return x[:h, :w].reshape(h // 16, 16, w // 16, 16).std(axis=(1, 3))

    return float(np.maximum(0.0, block_std(b) - block_std(a)).mean() / 3.0)


@pytest.mark.parametrize("style", ["oil", "acrylic"])
@pytest.mark.parametrize("method", METHODS)
def test_noise_is_not_turned_into_texture(style, method):
    assert _texture_gain(style, method) <= 1.0


@pytest.mark.parametrize("method", METHODS)
def test_oil_strokes_are_raised_and_lit_even_on_a_smooth_picture(method):
    src = np.round(_gradient()).astype(np.uint8)
    out = _luma(render(src, "oil", method, seed=3))
    # relief = what is left after removing the picture's own slow change
    relief = out - cv2.GaussianBlur(out, (0, 0), 6.0)
    # (a softened photo with faint lighting scores ~4 and +-10 here; brush strokes ~8 and +-19)
    assert float(relief.std()) > 5.5, "no visible paint relief"
    # lit from one side: slopes facing the light are brighter than the picture, others darker
    assert float(np.percentile(relief, 99)) > 12.0 and float(np.percentile(relief, 1)) < -12.0


def test_oil_strokes_run_along_the_forms():
    """Strokes on a vertical edge follow it: the relief is smoother along the edge than across."""
    img = np.full((400, 600, 3), 70, np.uint8)
    img[:, 300:] = 190
    img[:, 100:110] = 150  # a second, thin form
    out = _luma(render(img, "oil", "advanced", seed=5))[20:-20, 40:280]
    relief = out - cv2.GaussianBlur(out, (0, 0), 6.0)
    along = float(np.abs(np.diff(relief, axis=0)).mean())
    across = float(np.abs(np.diff(relief, axis=1)).mean())
    assert along < across


def _flat_patches() -> tuple[np.ndarray, list[tuple[slice, slice]]]:
    img = np.zeros((360, 540, 3), np.uint8)
    img[:] = (200, 60, 40)
    img[:, 180:360] = (40, 120, 200)
    img[:, 360:] = (230, 210, 80)
    return img, [(slice(30, 330), slice(30, 150)), (slice(30, 330), slice(210, 330)), (slice(30, 330), slice(390, 510))]


@pytest.mark.parametrize("method", METHODS)
def test_acrylic_flat_areas_are_one_opaque_colour(method):
    img, areas = _flat_patches()
    out = render(img, "acrylic", method, seed=2).astype(np.float32)
    for ys, xs in areas:
        patch = out[ys, xs].reshape(-1, 3)
        # only the brush grain shades it: a few levels, no second colour
        ratio = patch / np.maximum(patch.mean(axis=1, keepdims=True), 1.0)
        assert float(ratio.std(axis=0).max()) < 0.03
        assert float(patch.std(axis=0).max()) < 14.0


@pytest.mark.parametrize("method", METHODS)
def test_acrylic_gradients_are_brushed_blends_not_stepped_bands(method):
    """A palette snap alone gives straight band borders: averaged over the rows, the picture
    steps. Brushed blends move the border from stroke to stroke, so the average is smooth."""
    w, h = 600, 400
    ramp = np.linspace(40, 220, w, dtype=np.float32)
    img = np.dstack([ramp, ramp * 0.8 + 20, 255 - ramp * 0.7]).astype(np.uint8)
    img = np.repeat(img, h, axis=0)
    out = _luma(render(img, "acrylic", method, seed=4))
    profile = out[20:-20, 10:-10].mean(axis=0)
    steps = np.abs(np.diff(profile))
    # the ramp spans ~130 levels in ~15 palette colours: a straight band border jumps by 14-21
    # levels in one column; brushed borders leave only the strokes' own unevenness (4-7)
    assert float(steps.max()) < 9.0, f"largest step between columns {steps.max():.1f}"


@pytest.mark.parametrize("method", METHODS)
def test_acrylic_is_matte(method):
    """Acrylic dries matte: a flat area has no highlights above its paint."""
    img, areas = _flat_patches()
    out = _luma(render(img, "acrylic", method, seed=2))
    for ys, xs in areas:
        a = out[ys, xs]
        assert float(np.percentile(a, 99.5) - np.median(a)) < 20.0


@pytest.mark.parametrize("method", ["advanced", "artistic"])
def test_oil_ridges_catch_glints_even_on_dark_paint(method):
    """Thick oil paint glints on its ridges, even where it is dark (basic lights its strokes
    by shading only, which the relief test covers)."""
    img, areas = _flat_patches()
    out = _luma(render(img, "oil", method, seed=2))
    for ys, xs in areas:
        o = out[ys, xs]
        assert float(np.percentile(o, 99.5) - np.median(o)) > 8.0
