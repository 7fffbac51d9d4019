"""Watercolour: transparent washes over unpainted paper, darker dried edges, granulation.

Colour is worked at a small size (washes carry no fine detail and a small size keeps them
loose): smoothed, wobbled, and given the uneven density of real pigment (turbulence, blooms).
The lightest lights are reserved as bare paper: decided at the small size (where shapes too
thin for a brush to paint around are dropped), then resized and re-steepened so that the
edges of the reserves are crisp at 12 MP. The paint is thinned so the paper shows
through every wash, and each wash gets the dark rim where its pigment pooled while it dried
(Curtis et al. 1997; Bousseau et al. 2006). Paper relief and granulation are full-size
textures; on a smooth gradient the rims vanish (a rim needs curvature), so skies stay washes.

basic    -- quick loose washes: reserved whites, rims, light granulation, a clean margin.
advanced -- careful: more washes, wet-in-wet blooms, stronger granulation, a light pencil
            underdrawing, a ragged unpainted margin.
artistic -- expressive: vivid pigment that runs past the forms, bold blooms and pooling,
            a wide ragged margin.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops, textures
from . import media
from .base import Ctx

F32 = np.float32


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    shape = rgb.shape[:2]
    full = (shape[1], shape[0])
    basic, artistic = method == "basic", method == "artistic"
    mp = {"basic": 0.15, "advanced": 0.35, "artistic": 0.25}[method]
    # watercolours are light: open up dark photos before painting them
    small = ops.normalize_colour(media.shrink(rgb, ops.detail_size(shape, mp, ctx.detail)), 0.62, 0.8)
    us = ops.unit(small.shape)
    ctx.report(0.1)

    passes = {"basic": 2, "advanced": 3, "artistic": 3}[method]
    wash = ops.bilateral(small, (4.5 - 3.5 * ctx.detail) * us, 26.0 + 12.0 * ctx.strength, passes)
    # drop the small features a brush cannot paint (and any stray dark speck)
    wash = cv2.medianBlur(wash, 5 if not basic or us > 1.5 else 3)
    # loose patches of flat wash, edges kept (Kuwahara): a brush lays areas, not texture
    c = _kuwahara(wash, max(2, round((4.0 - 2.5 * ctx.detail) * us)))
    c = ops.clip01(c * F32(1 / 255))
    if artistic:
        c = _vivid(c, 1.3)
    c = _bleed(c, ctx, us, {"basic": 1.2, "advanced": 2.0, "artistic": 3.0}[method])
    # pigment never settles evenly across a wash (turbulent flow)
    turb = {"basic": 0.14, "advanced": 0.14, "artistic": 0.18}[method]
    d = F32(1.0) + textures.fbm(c.shape[:2], 28.0 * us, ctx.seed, 53) * F32(turb)
    if artistic:
        d *= _blooms(c, ctx, us, 0.6)
    c = _apply_density(c, d)
    white = _reserves(c, full, _margin(c.shape[:2], ctx, {"basic": 0.012, "advanced": 0.018, "artistic": 0.028}[method]))
    ctx.report(0.3)

    colour = ops.resize(ops.to_u8(c), full)
    del c, d
    colour = _washes(colour, ctx, method, white)
    ctx.report(0.6)

    if method == "advanced":
        colour = _lines(rgb, colour, ctx)
    ctx.report(0.8)
    return ops.multiply_rgb(colour, _paper_and_grain(colour, method, ctx))


def _kuwahara(img: np.ndarray, radius: int, q: float = 5.0) -> np.ndarray:
    """Smooth Kuwahara (float32 result, same scale as ``img``): each pixel takes the means of
    its four quadrants, weighted 1 / (1 + (var / median var)^q), as ``ops.smooth_kuwahara``.

    The weights are computed relative to the calmest quadrant, so they cannot all underflow
    to zero where every quadrant is busy (a thin bright line on a dark ground): there the
    plain formula divides ~0 by ~0 and leaves black or white specks along the line.
    """
    x = img.astype(F32)
    k = radius + 1
    mean = cv2.blur(x, (k, k), borderType=cv2.BORDER_REFLECT)
    var = (cv2.blur(x * x, (k, k), borderType=cv2.BORDER_REFLECT) - mean * mean).sum(axis=2)
    var = np.maximum(var, F32(1e-4))
    var *= F32(1.0 / max(float(np.median(var)), 1e-4))
    o = radius // 2
    h, w = x.shape[:2]
    shifts = [(dx, dy) for dy in (-o, radius - o) for dx in (-o, radius - o)]
    flags, border = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, cv2.BORDER_REPLICATE
    vs, mus = [], []
    for dx, dy in shifts:
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        vs.append(cv2.warpAffine(var, m, (w, h), flags=flags, borderMode=border))
        mus.append(cv2.warpAffine(mean, m, (w, h), flags=flags, borderMode=border))
    s = np.maximum(np.minimum(np.minimum(vs[0], vs[1]), np.minimum(vs[2], vs[3])), F32(1.0))
    sq = s**-q
    acc = np.zeros_like(mean)
    wsum = np.zeros(var.shape, F32)
    for v, mu in zip(vs, mus, strict=True):
        wt = F32(1.0) / (sq + np.minimum(v / s, F32(1e6)) ** q)  # = 1 / (1 + v^q) scaled by s^q: (0, 1]
        wsum += wt
        acc += mu * wt[..., None]
    return acc / wsum[..., None]


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
    return cv2.GaussianBlur(out, (0, 0), 1.0 * us)


def _apply_density(c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Bousseau's pigment density: d > 1 deepens a colour (more so its weak channels)."""
    dm1 = (d - F32(1.0))[..., None]
    return ops.clip01(c - (c - c * c) * dm1)


def _blooms(c: np.ndarray, ctx: Ctx, us: float, amount: float) -> np.ndarray:
    """Backruns: water pushed into a drying wash leaves pale blotches with dark rims."""
    lum = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)
    n = textures.fbm(lum.shape, 45.0 * us, ctx.seed, 54, octaves=3)
    pigment = ops.smoothstep(0.1, 0.5, F32(1.0) - lum)  # only where there is paint to push
    inside = ops.smoothstep(1.3, 1.55, n)
    ring = ops.smoothstep(1.05, 1.3, n) - inside
    return F32(1.0) + (ring * F32(0.45) - inside * F32(0.8)) * pigment * F32(amount)


def _reserves(c: np.ndarray, full: tuple[int, int], margin: np.ndarray) -> np.ndarray:
    """Full-size uint8 mask of the paper left bare: the lightest lights of this picture (a
    dark photo keeps a few whites, a bright one more; never mid tones) that are white or
    much lighter still (a lit cheek gets a pale wash, not a hole in the face), without the shapes
    too thin to paint around, which a one-pixel sliver would turn into a broken zipper; plus
    the unpainted ``margin``. Resized, then re-steepened so its edges are crisp at 12 MP."""
    lum = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)
    level = float(np.clip(np.percentile(lum[::2, ::2], 90), 0.72, 0.86))
    chroma = c.max(axis=2) - c.min(axis=2)
    white = np.maximum(F32(1.0) - ops.smoothstep(0.1, 0.2, chroma), ops.smoothstep(level + 0.04, level + 0.1, lum))
    m = ops.to_u8(ops.smoothstep(level - 0.05, level + 0.01, lum) * white)
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    m = cv2.max(m, ops.to_u8(margin))
    m = cv2.GaussianBlur(m, (0, 0), 0.8)
    m = ops.resize(m, full)
    return cv2.LUT(m, ops.curve_lut(lambda v: ops.smoothstep(0.35, 0.65, v)), dst=m)


def _washes(colour: np.ndarray, ctx: Ctx, method: str, white: np.ndarray) -> np.ndarray:
    """Full size, uint8: bare paper in the highlights, thinned paint, dark dried rims."""
    # thin the paint: watercolour is transparent and the paper lights it from behind
    k = ctx.lerp(0.55, 0.8) * (0.88 if method == "basic" else 1.0)  # a quick sketch is paler
    thin = ops.curve_lut(lambda x: 1.0 - (1.0 - x) * k)
    colour = cv2.LUT(colour, thin, dst=colour)
    colour = _toward_white(colour, white)
    # pigment pools at the edge of a wash as it dries: a dark, thin rim on the painted side
    # of every edge (the negative lobe of a difference of Gaussians, so a smooth gradient
    # gets none), plus a broad, faint pooling towards the edge
    g = ops.gray8(colour)
    r = max(0.8, 1.3 * ctx.u)
    rim = cv2.subtract(ops.blur(g, r), g)
    pool = cv2.subtract(ops.blur(g, 7.0 * ctx.u), g)
    gain = ctx.lerp(2.2, 3.6) * {"basic": 0.8, "advanced": 1.0, "artistic": 1.2}[method]
    # a threshold, so that only the edges of washes pool, not every ripple of a wash
    dark = cv2.addWeighted(rim, gain, pool, 0.8, -14.0)
    keep = cv2.LUT(dark, ops.curve_lut(lambda v: 1.0 - 0.32 * (1.0 - np.exp(-3.0 * v))))
    return ops.multiply_rgb(colour, keep)


def _paper_and_grain(colour: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    """Full-size uint8 shade: cold-press paper lit from the top left, pigment in the tooth."""
    shape = colour.shape[:2]
    u = ctx.u
    grain = textures.paper_grain(shape, 2.0 * u, ctx.seed)
    relief = textures.relief(grain, 0.2 if method == "basic" else 0.26)
    shade = cv2.add(relief, 250 - 128)
    # granulation: pigment settles into the tooth, more where there is more pigment
    pig = ops.gray8(colour)
    cv2.bitwise_not(pig, dst=pig)
    amount = ctx.lerp(0.3, 0.7) * {"basic": 0.6, "advanced": 1.0, "artistic": 1.2}[method]
    gran = cv2.multiply(cv2.subtract(grain, 110), pig, scale=amount / 255)
    return cv2.subtract(shade, gran)


def _margin(shape: tuple[int, int], ctx: Ctx, width: float) -> np.ndarray:
    """Float mask (1 = bare paper) of a ragged band left unpainted around the picture, as a
    painter does; ``width`` is a share of the longer side."""
    sh, sw = shape
    y = np.minimum(np.arange(sh, dtype=F32), np.arange(sh, dtype=F32)[::-1])[:, None]
    x = np.minimum(np.arange(sw, dtype=F32), np.arange(sw, dtype=F32)[::-1])[None, :]
    edge = np.minimum(x, y) * F32(1.0 / max(sw, sh))
    n = textures.fbm((sh, sw), max(2.0, max(sw, sh) / 14.0), ctx.seed, 57, octaves=3)
    edge = edge + n * F32(width * 0.25)
    return F32(1.0) - ops.smoothstep(width * 0.8, width * 1.0, edge)


def _toward_white(rgb8: np.ndarray, amount8: np.ndarray) -> np.ndarray:
    """Mix towards paper white by a uint8 amount: 255 - (255 - rgb) (1 - amount), in place."""
    cv2.bitwise_not(rgb8, dst=rgb8)
    out = ops.multiply_rgb(rgb8, cv2.bitwise_not(amount8))
    return cv2.bitwise_not(out, dst=out)


def _lines(rgb: np.ndarray, out: np.ndarray, ctx: Ctx) -> np.ndarray:
    """A light pencil underdrawing along the main contours (advanced).

    Found on a picture of at most 3 MP (thin enough at 12 MP); texture gives only short
    fragments, which are dropped, so the lines describe shapes.
    Short, isolated fragments are dropped: an underdrawing has contours, not dashes.
    """
    mid = media.shrink(rgb, ops.work_size(rgb.shape, 3.0))
    um = ops.unit(mid.shape)
    g = ops.tone(mid)
    sigma = (1.6 - 0.6 * ctx.detail) * um
    gain = ctx.lerp(5.0, 9.0)
    lines8 = ops.to_u8(ops.dog_lines(g, sigma, gain))
    # keep only long connected strokes
    mask = (lines8 > 55).astype(np.uint8)
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    big = np.zeros(n, np.uint8)
    size = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    big[size >= 35.0 * um] = 255
    big[0] = 0
    # an even graphite line: the kept strokes, smoothed, resized and re-steepened
    # (crisp, never a row of blobs where the line's strength wavers)
    line = cv2.GaussianBlur(big[lbl], (0, 0), 0.7)
    line = ops.resize(line, (out.shape[1], out.shape[0]))
    keep = cv2.LUT(line, ops.curve_lut(lambda v: 1.0 - 0.32 * ops.smoothstep(0.3, 0.6, v)))
    return ops.multiply_rgb(out, keep)
