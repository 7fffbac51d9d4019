"""Properties the line styles (pencil, charcoal, ink) rely on to read as drawn by hand.

Each test is about a defect a blind review found and can fail on it:
spatter and broken outlines in ink, swirls in pencil's flat areas, charcoal that is plain noise.
Inputs are small and carry sensor-like noise, as phone photos do.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from sketches.engine import render

W, H = 480, 320


def noise(shape: tuple[int, ...], std: float = 3.0, seed: int = 3) -> np.ndarray:
    """Spatially correlated noise (demosaicing and JPEG blur sensor noise over ~1.5 px)."""
    n = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32), (0, 0), 1.5)
    return n * (std / n.std())


EDGE = 40  # black and white strips at the sides: the picture spans the full tonal range


def flat_noisy(value: float = 150.0) -> np.ndarray:
    """A flat wall with a slight gradient and sensor noise (nothing to draw but tone), between a
    black and a white strip so that the tone curve sees a real picture's range."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.dstack([value + 10 * x / W, value + 5 * y / H, value - 10 * x / W])
    img[:, :EDGE] = 10.0
    img[:, -EDGE:] = 250.0
    return np.clip(np.round(img + noise(img.shape)), 0, 255).astype(np.uint8)


def wall(out: np.ndarray) -> np.ndarray:
    """The flat part of a ``flat_noisy`` render, away from the strips' edges."""
    return out[16:-16, EDGE + 24 : -EDGE - 24]


def disc_scene() -> np.ndarray:
    """A dark disc on a light noisy background, its edge slightly soft (a lens)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.full((H, W, 3), 200.0, np.float32)
    img[(x - W / 2) ** 2 + (y - H / 2) ** 2 < 100.0**2] = 90.0
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    return np.clip(np.round(img + noise(img.shape)), 0, 255).astype(np.uint8)


def noisy_ramp(w: int = 1200, h: int = 800) -> np.ndarray:
    """A smooth dark-to-light ramp with sensor noise at a photo's size (noise at a given pixel
    scale matters less in a bigger picture): somewhere along it every tone threshold is crossed
    slowly, where a look that thresholds the noise breaks into blotches."""
    x = np.arange(w, dtype=np.float32)[None, :].repeat(h, axis=0)
    img = np.repeat((30.0 + 200.0 * x / w)[..., None], 3, axis=2)
    return np.clip(np.round(img + noise(img.shape)), 0, 255).astype(np.uint8)


def luma(out: np.ndarray) -> np.ndarray:
    return out if out.ndim == 2 else cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)


def ink_mask(out: np.ndarray) -> np.ndarray:
    return (luma(out) < 128).astype(np.uint8)


@pytest.mark.parametrize(
    ("method", "value"), [("basic", 215.0), ("basic", 170.0), ("basic", 135.0), ("advanced", 215.0), ("artistic", 215.0)]
)
def test_ink_leaves_no_spatter_on_a_noisy_wall(method, value):
    """Flat areas stay clean paper (basic: at any mid-tone; the shading methods: where light):
    no dots, no blotches from the noise."""
    out = wall(render(flat_noisy(value), "ink", method, seed=1))
    assert ink_mask(out).mean() < 0.002, "ink on an empty light wall"


def test_ink_basic_draws_a_smooth_ramp_without_crumbs():
    """Ink basic has lines and solid fills only: across a slow noisy ramp the fill ends in one
    clean contour, with no specks or blotches on either side of it."""
    out = render(noisy_ramp(), "ink", "basic", seed=1)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink_mask(out), connectivity=8)
    m, _, pstats, _ = cv2.connectedComponentsWithStats(1 - ink_mask(out), connectivity=8)
    ink_specks = int((stats[1:, cv2.CC_STAT_AREA] < 200).sum())
    paper_specks = int((pstats[1:, cv2.CC_STAT_AREA] < 200).sum())
    assert ink_specks == 0 and paper_specks == 0, f"{ink_specks} ink and {paper_specks} paper crumbs"


@pytest.mark.parametrize("method", ["basic", "advanced", "artistic"])
def test_ink_marks_are_never_isolated_specks(method):
    """Every ink mark on a noisy scene is a stroke or a fill, never a crumb of a few pixels."""
    out = render(disc_scene(), "ink", method, seed=1)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink_mask(out), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    # hatching and stipple screens make many small marks inside shaded areas on purpose; on
    # the light background (outside the disc) there must be none
    y, x = np.mgrid[0:H, 0:W]
    outside = (x - W / 2) ** 2 + (y - H / 2) ** 2 > 115.0**2
    labels = cv2.connectedComponents(ink_mask(out), connectivity=8)[1]
    stray = np.unique(labels[outside & (labels > 0)])
    assert len(stray) == 0, f"{len(stray)} ink marks on the empty background (areas {sorted(areas)[:10]})"


@pytest.mark.parametrize("method", ["basic", "advanced", "artistic"])
def test_ink_outline_of_a_disc_is_one_closed_line(method):
    """The disc's edge is drawn as one continuous stroke, not broken dashes."""
    out = render(disc_scene(), "ink", method, seed=1)
    y, x = np.mgrid[0:H, 0:W]
    r = np.sqrt((x - W / 2) ** 2 + (y - H / 2) ** 2)
    ring = (r > 92) & (r < 110)
    mask = ink_mask(out) & ring.astype(np.uint8)
    # sample the ring at 180 angles: ink must cross every ray
    hit = 0
    for a in np.linspace(0, 2 * math.pi, 180, endpoint=False):
        rr = np.arange(92, 110)
        xs = np.clip(np.round(W / 2 + rr * math.cos(a)).astype(int), 0, W - 1)
        ys = np.clip(np.round(H / 2 + rr * math.sin(a)).astype(int), 0, H - 1)
        hit += bool(mask[ys, xs].any())
    assert hit >= 176, f"outline covers {hit}/180 directions: broken line"


def dominant_angles(out: np.ndarray, block: int = 32) -> np.ndarray:
    """Per-block stroke orientation (degrees, 0..180) from the structure tensor of the output."""
    g = luma(out).astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = (cv2.blur(v, (block, block))[block // 2 :: block, block // 2 :: block] for v in (gx * gx, gy * gy, gx * gy))
    # gradient direction; strokes run perpendicular to it
    return (np.degrees(0.5 * np.arctan2(2 * jxy, jxx - jyy)) + 90.0) % 180.0


@pytest.mark.parametrize(("style", "method"), [("pencil", "artistic"), ("charcoal", "artistic"), ("pencil", "basic")])
def test_flat_areas_get_straight_even_strokes_not_swirls(style, method):
    """On a flat noisy wall the strokes keep one direction (a hand hatching a background),
    rather than following the noise into marbled swirls."""
    angles = dominant_angles(wall(render(flat_noisy(120.0), style, method, seed=1)))
    # circular spread of doubled angles: 1 = all one direction, 0 = any direction
    r = np.radians(2 * angles)
    coherence = float(np.hypot(np.cos(r).mean(), np.sin(r).mean()))
    assert coherence > 0.8, f"stroke directions wander (coherence {coherence:.2f})"


@pytest.mark.parametrize("method", ["basic", "advanced"])
def test_charcoal_mid_tones_are_strokes_not_plain_noise(method):
    """Mid-tones break up into directional marks: the texture is much more alike along the
    stroke direction than across it (plain grain is the same in every direction)."""
    out = luma(wall(render(flat_noisy(120.0), "charcoal", method, seed=1))).astype(np.float32)
    t = out - cv2.blur(out, (25, 25))
    t = t[16:-16, 16:-16]

    def corr(dx: int, dy: int) -> float:
        a = t[20:-20, 20:-20]
        b = np.roll(np.roll(t, dy, 0), dx, 1)[20:-20, 20:-20]
        return float((a * b).mean() / max(a.var(), 1e-6))

    # strokes run at 30 degrees (visual): along = (cos, -sin) in array coordinates
    d = 4
    along = corr(round(d * math.cos(math.radians(30))), -round(d * math.sin(math.radians(30))))
    across = corr(round(d * math.cos(math.radians(120))), -round(d * math.sin(math.radians(120))))
    assert along > 0.3 and along > 2.0 * across, f"no strokes: correlation along {along:.2f}, across {across:.2f}"


@pytest.mark.parametrize(
    ("style", "method"), [(s, m) for s in ("pencil", "charcoal", "ink") for m in ("basic", "advanced", "artistic")]
)
def test_white_paper_stays_white_in_highlights(style, method):
    """A near-white noisy area is bare paper: no tone, no texture laid over it."""
    out = luma(wall(render(flat_noisy(240.0), style, method, seed=1))).astype(np.float32)
    assert out.mean() > 225.0 and out.std() < 8.0, f"highlights not paper: mean {out.mean():.0f}, std {out.std():.1f}"
