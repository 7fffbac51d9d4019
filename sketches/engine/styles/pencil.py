"""Pencil: graphite outlines plus tone laid down as strokes on white paper (Lu, Sander and
Finkelstein 2012, "Combining sketch and tone for pencil drawing production").

What the pencil draws is decided on a calm working copy (about one megapixel, bilateral-smoothed,
see ``linework``): outlines are a colour dodge with a dead zone above the picture's noise, so a
sky or a wall gets even hatching or bare paper, never noise. Tone is the smoothed picture lifted
towards white, rendered with a stroke texture (J = T^K) and broken by the paper tooth.

basic    -- dodge outlines over light, even 45-degree hatching, grey.
advanced -- outlines joined along the edge flow, tone as hatching (J = T^K) on warm paper.
artistic -- bolder, sketchier outlines that run on along the edges, strokes that follow the
            broad forms (straight hatching where there are none), cross-hatching in the darks.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import linework, ops, textures
from .base import Ctx

F32 = np.float32
GRAPHITE = (52, 52, 58)
PAPER = (250, 247, 240)


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    shape = rgb.shape[:2]
    basic = method == "basic"
    g = linework.calm_tone(rgb, 1.0, passes=1 if basic else 2)
    noise = linework.noise_level(g)
    ctx.report(0.2)
    line = _outlines(g, noise, ctx, method)
    lines8 = linework.soft_lines(line, shape, ctx.lerp(0.55, 0.85))
    ctx.report(0.4)
    tone8 = linework.up(_light_tone(g, ctx, 0.5 if basic else 0.8), shape)
    if basic:
        hatch = linework.strokes(shape, ctx.u, 45.0, ctx.seed, length=20.0)
        shade8 = _quick_hatched(tone8, hatch)
    elif method == "advanced":
        hatch = textures.hatching(shape, ctx.u, 45.0, ctx.seed, length=22.0)
        shade8 = ops.to_u8(_hatched_tone(tone8, hatch))
    else:
        strokes = _flow_strokes(g, shape, ctx)
        ctx.report(0.6)
        shade = _hatched_tone(tone8, strokes)
        # cross-hatching only where the tone is dark
        cross = textures.hatching(shape, ctx.u, 135.0, ctx.seed, length=16.0)
        dark8 = cv2.LUT(tone8, ops.curve_lut(lambda x: np.minimum(x * 1.6, 1.0)))
        shade = cv2.multiply(shade, _hatched_tone(dark8, cross), dst=shade)
        shade8 = ops.to_u8(shade)
        del shade
    ctx.report(0.75)
    if not basic:  # basic: the stroke texture alone carries the grain (cheaper)
        shade8 = _on_paper(shade8, ctx)
    out = cv2.multiply(lines8, shade8, dst=shade8, scale=1 / 255)
    if basic:
        return out
    return ops.tint(out, GRAPHITE, PAPER)


def _outlines(g: np.ndarray, noise: float, ctx: Ctx, method: str) -> np.ndarray:
    """Line darkness (float [0, 1], working size) from a colour dodge of the calm tone.

    dodge = g / blur(g) is 1 on flat paper and dips on the dark side of an edge; a dead zone
    above the noise level keeps flat areas clean."""
    us = ops.unit(g.shape)
    artistic = method == "artistic"
    lifted = g * F32(0.85) + F32(0.15)  # flat dark areas divide to paper, not 0 / 0
    sigma = (7.0 - 4.5 * ctx.detail) * us
    b = ops.blur(lifted, sigma)
    d = cv2.divide(lifted, np.maximum(b, F32(1e-3), out=b))  # ~1 flat, < 1 on the dark side of an edge
    dz = float(np.clip(4.0 * noise, 0.012, 0.05))
    gain = 1.0 / (ctx.lerp(0.3, 0.16) * (0.75 if artistic else 1.0))
    dark = np.subtract(F32(1.0 - dz), d, out=d)
    dark *= F32(gain)
    ops.clip01(dark)
    if method != "basic":
        tx, ty, coh = linework.flow(g, 3.0 * us, 2.0 * noise + 0.002)
        # strokes run on along the edges (and a little past their ends, as a sketcher's do)
        run = (3.0 if artistic else 2.0) * us * (1.0 + 1.5 * (1.0 - ctx.detail))
        dark = linework.join_along_edges(dark, tx, ty, coh, run * 2.0, 1.5)
    dark = np.sqrt(dark, out=dark)  # graphite: soft start, firm middle
    return linework.keep_strokes(dark, 0.15, 0.5, (2.0 * us) ** 2)


def _light_tone(g: np.ndarray, ctx: Ctx, amount: float) -> np.ndarray:
    """Smoothed tone lifted towards white (uint8, working size): pencil leaves most paper bare."""
    t = ops.blur(g, (2.5 - 1.5 * ctx.detail) * ops.unit(g.shape))
    a = amount * ctx.lerp(0.55, 1.0)
    # lighten the mid-tones, keep the deep shadows; the lightest tenth is bare paper
    t8 = ops.to_u8(t)
    return cv2.LUT(t8, ops.curve_lut(lambda x: 1.0 - a * (1.0 - np.minimum(x / 0.9, 1.0) ** 0.7)), dst=t8)


def _quick_hatched(tone8: np.ndarray, hatch8: np.ndarray) -> np.ndarray:
    """Tone as stroke texture, cheaply: darkness scaled by the strokes (uint8 only)."""
    dark = cv2.bitwise_not(tone8)
    # hatching 128 = mean: factor 0.2 .. 1.8 around 1, so strokes show and gaps stay light
    fac = ops.lut_u8(hatch8, np.clip(1.0 + (np.arange(256) - 128.0) / 128.0 * 1.6, 0.1, 2.0) / 2.0)
    marks = cv2.multiply(dark, fac, scale=2.0 / 255.0)
    return cv2.bitwise_not(marks, dst=marks)


def _hatched_tone(tone8: np.ndarray, hatch8: np.ndarray) -> np.ndarray:
    """Render a tone with a stroke texture: J = T^K, K = ln(texture) / ln(mean texture).

    float32 result; both logarithms come from lookup tables, so it is two LUTs, a multiply
    and an exp at full size.
    """
    x = np.arange(256, dtype=np.float64) / 255.0
    tex = np.clip(0.78 + (x - 0.5) * 0.9, 0.02, 0.999)  # texture as paper brightness
    k = ops.lut_f32(hatch8, np.log(tex) / np.log(0.78))
    lt = ops.lut_f32(tone8, np.log(np.maximum(x, 1e-3)))
    cv2.multiply(lt, k, dst=lt)
    return cv2.exp(lt, dst=lt)


def _flow_strokes(g: np.ndarray, shape: tuple[int, int], ctx: Ctx) -> np.ndarray:
    """Stroke texture that follows the broad forms: sparse dots smeared along a coarse, confident
    edge flow; where the picture has no direction (flat areas, noise) strokes keep 45 degrees."""
    size = ops.work_size(shape, 1.5)
    tx, ty = linework.broad_flow(g, 45.0, size)
    us = ops.unit((size[1], size[0]))
    # sparse dots smeared along the flow become distinct strokes (dense noise gives fur)
    noise = (ctx.rng(5).random((size[1], size[0]), dtype=F32) < F32(0.12)).astype(F32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6 * us)
    s = ops.lic(noise, tx, ty, 12.0 * us, steps=8)
    s8 = textures.to_u8(s, -42.0)  # negative spread: a stroke is dark = low value
    return linework.up(s8, shape)


def _on_paper(shade8: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Graphite skips the valleys of the paper tooth: lighten marks where the grain is low."""
    grain = textures.paper_grain(shade8.shape, ctx.u, ctx.seed)
    skip = ctx.lerp(0.25, 0.45)
    keep = cv2.LUT(grain, ops.curve_lut(lambda x: 1.0 - skip * np.clip((0.5 - x) * 2.2, 0, 1)))
    dark = cv2.multiply(cv2.bitwise_not(shade8), keep, scale=1 / 255)
    return cv2.bitwise_not(dark)
