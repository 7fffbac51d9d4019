"""Watercolour: transparent washes with darker rims, granulation and the paper's relief.

Colour is worked at a small size (washes carry no fine detail and a small size keeps them
loose). For the glazed methods the value layers are cut at full size from the resized
lightness, so the dried edges of the washes are crisp even at 12 MP. Paper relief,
granulation and lines are full-size textures.

basic    -- one soft wash, light rims, paper texture.
advanced -- the picture built from a few glazes (value layers with hard, darker dried
            edges), runs and bleeding, granulation, a pencil underdrawing.
artistic -- loose colour that wanders off the ink lines, vivid pigment, blooms, splatter.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops, textures
from .base import Ctx

F32 = np.float32


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    shape = rgb.shape[:2]
    full = (shape[1], shape[0])
    basic, artistic = method == "basic", method == "artistic"
    mp = {"basic": 0.25, "advanced": 0.35, "artistic": 0.2}[method]
    # watercolours are light: open up dark photos before painting them
    small = ops.normalize_colour(ops.resize(rgb, ops.detail_size(shape, mp, ctx.detail)), 0.6, 0.8)
    us = ops.unit(small.shape)
    ctx.report(0.1)

    passes = {"basic": 1, "advanced": 3, "artistic": 4}[method] + (1 if ctx.detail < 0.5 else 0)
    wash = ops.bilateral(small, (5.0 - 4.0 * ctx.detail) * us, 28.0 + 10.0 * ctx.strength, passes)
    if not basic:
        wash = cv2.medianBlur(wash, 5)
    c = wash.astype(F32) * F32(1 / 255)
    if artistic:
        c = _vivid(c, 1.35)
    if not basic:
        c = _bleed(c, ctx, us, 5.0 if artistic else 1.8)
        # pigment never settles evenly across a wash
        c = _apply_density(c, F32(1.0) + textures.fbm(c.shape[:2], 30.0 * us, ctx.seed, 53) * F32(0.12))
    if artistic:
        c = _apply_density(c, _blooms(c, ctx, us))
        c = _splatter(c, ctx, us)
    ctx.report(0.3)

    colour = ops.resize(ops.to_u8(c), full, smooth=True)
    if basic:
        colour = _soft_rims(colour, c, ctx, us, full)
    else:
        colour = _glazes(colour, ctx, artistic)
    del c
    # thin the paint: watercolour is transparent and the paper lights it from behind
    k = ctx.lerp(0.6, 0.88)
    colour = cv2.LUT(colour, ops.curve_lut(lambda x: 1.0 - (1.0 - x) * k))
    ctx.report(0.6)

    out = ops.multiply_rgb(colour, _paper_and_grain(colour, method, ctx))
    ctx.report(0.8)
    if not basic:
        out = _lines(rgb, out, ctx, artistic)
    return out


def _vivid(c: np.ndarray, amount: float) -> np.ndarray:
    lum = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)[..., None]
    return ops.clip01(lum + (c - lum) * F32(amount))


def _bleed(c: np.ndarray, ctx: Ctx, us: float, amount: float) -> np.ndarray:
    """Wobble the washes with smooth noise so that edges look like wet paint ran, then soften."""
    h, w = c.shape[:2]
    dx = textures.value_noise((h, w), 16.0 * us, ctx.seed, 51) * F32(amount * us)
    dy = textures.value_noise((h, w), 16.0 * us, ctx.seed, 52) * F32(amount * us)
    dx += np.arange(w, dtype=F32)[None, :]
    dy += np.arange(h, dtype=F32)[:, None]
    out = cv2.remap(c, dx, dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return cv2.GaussianBlur(out, (0, 0), 0.7 * us)


def _apply_density(c: np.ndarray, d: np.ndarray) -> np.ndarray:
    dm1 = (d - F32(1.0))[..., None]
    return ops.clip01(c - (c - c * c) * dm1)


def _blooms(c: np.ndarray, ctx: Ctx, us: float) -> np.ndarray:
    """Backruns: water pushed into a drying wash leaves pale blotches with dark rims."""
    lum = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)
    n = textures.fbm(lum.shape, 45.0 * us, ctx.seed, 54, octaves=3)
    pigment = ops.smoothstep(0.1, 0.5, F32(1.0) - lum)  # only where there is paint to push
    inside = ops.smoothstep(1.0, 1.2, n)
    ring = ops.smoothstep(0.85, 1.0, n) - inside
    return F32(1.0) + (ring * F32(0.5) - inside * F32(0.4)) * pigment


def _splatter(c: np.ndarray, ctx: Ctx, us: float) -> np.ndarray:
    """A few flicked drops of the local colour, a little darker."""
    h, w = c.shape[:2]
    rng = ctx.rng(55)
    out = c.copy()
    for _ in range(int(40 * ctx.strength + 12)):  # a loop over drops, not pixels
        x, y = int(rng.integers(w)), int(rng.integers(h))
        r = max(1, round(rng.uniform(0.5, 2.0) * us))
        col = tuple(float(v) for v in np.clip(c[y, x] * 0.75, 0.0, 1.0))
        cv2.circle(out, (x, y), r, col, -1, cv2.LINE_AA)
    return out


def _glazes(colour: np.ndarray, ctx: Ctx, artistic: bool) -> np.ndarray:
    """Rebuild the lightness from a few flat layers with hard edges, cut at full size.

    Each layer boundary gets the dark rim of a dried wash; highlights go back to bare paper,
    as a painter reserves them. All uint8 lookups, so it is cheap at 12 MP.
    """
    lum = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
    n = 3.0 + 2.0 * ctx.detail if artistic else 4.0 + 3.0 * ctx.detail
    v = np.arange(256) / 255.0
    x = v * n
    base = np.floor(x)
    t = np.clip((x - base - 0.4) / 0.2, 0.0, 1.0)  # short soft step: crisp, not aliased
    # keep part of the smooth gradation inside each layer (wet-in-wet), the rest is flat
    flat = ctx.lerp(0.45, 0.8)
    lev = (base + t * t * (3 - 2 * t)) / n * flat + v * (1.0 - flat)
    t = np.clip((np.arange(256) / 255.0 - 0.82) / 0.13, 0.0, 1.0)
    lev = lev + (1.0 - lev) * t * t * (3 - 2 * t)
    glaze = ops.lut_u8(lum, lev)
    # scale each pixel's colour so that its lightness becomes the glaze level
    ratio = cv2.divide(glaze, cv2.max(lum, 1), scale=128)
    r3 = cv2.cvtColor(ratio, cv2.COLOR_GRAY2RGB)
    out = cv2.multiply(colour, r3, dst=r3, scale=1 / 128)
    # dried edge: darker where the layer changed within a few pixels
    r = max(0.8, 1.2 * ctx.u)
    rim = cv2.absdiff(glaze, ops.blur(glaze, r))
    gain = ctx.lerp(2.0, 4.0)
    keep = cv2.LUT(rim, ops.curve_lut(lambda v: 1.0 - np.minimum(v * gain, 0.35)))
    return ops.multiply_rgb(out, keep)


def _soft_rims(colour: np.ndarray, c: np.ndarray, ctx: Ctx, us: float, full) -> np.ndarray:
    """Basic: light edge darkening from the wash gradients, computed small, applied full."""
    soft = cv2.GaussianBlur(c, (0, 0), 0.6 * us)
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
    rim = np.sqrt((gx * gx + gy * gy).sum(axis=2))
    rim *= F32(1.0 / max(float(np.percentile(rim, 97)), 0.02))
    keep = ops.to_u8(F32(1.0) - np.clip(rim, 0.0, 1.0) * F32(ctx.lerp(0.1, 0.3) * (0.4 + 1.2 * ctx.detail)))
    return ops.multiply_rgb(colour, ops.resize(keep, full))


def _paper_and_grain(colour: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    """Full-size uint8 shade: cold-press paper lit from the top left, pigment in the tooth."""
    shape = colour.shape[:2]
    u = ctx.u
    grain = textures.paper_grain(shape, 2.0 * u, ctx.seed)
    relief = textures.relief(grain, 0.22 if method == "basic" else 0.3)
    shade = cv2.add(relief, 250 - 128)
    if method == "basic":
        return shade
    # granulation: pigment settles into the tooth, more where there is more pigment
    pig = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
    cv2.bitwise_not(pig, dst=pig)
    fine = textures.paper_grain(shape, 0.8 * u, ctx.seed + 1)
    gran = cv2.multiply(cv2.subtract(fine, 120), pig, scale=ctx.lerp(0.3, 0.7) / 255)
    return cv2.subtract(shade, gran)


def _lines(rgb: np.ndarray, out: np.ndarray, ctx: Ctx, artistic: bool) -> np.ndarray:
    """Pencil underdrawing (advanced) or ink-pen contours (artistic).

    Drawn from a smoothed half-size picture so they describe shapes, not texture; the soft
    line field is resized and then sharpened by a steep curve, so lines are crisp at 12 MP.
    """
    mid = ops.resize(rgb, ops.work_size(rgb.shape, 3.0))
    um = ops.unit(mid.shape)
    mid = cv2.bilateralFilter(mid, 5, 30, 3)
    g = ops.tone(mid)
    sigma = (1.3 - 0.6 * ctx.detail) * um * (0.8 if artistic else 1.0)
    gain = ctx.lerp(5.0, 10.0) * (1.6 if artistic else 1.0)
    lines8 = ops.to_u8(ops.dog_lines(g, sigma, gain))
    lines8 = ops.resize(lines8, (out.shape[1], out.shape[0]))
    depth = 0.85 if artistic else 0.4
    keep = cv2.LUT(lines8, ops.curve_lut(lambda v: 1.0 - depth * np.clip((v - 0.15) * 1.6, 0, 1)))
    return ops.multiply_rgb(out, keep)
