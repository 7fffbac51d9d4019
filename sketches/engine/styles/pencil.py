"""Pencil: graphite lines from a colour dodge, tone laid down as hatching on paper grain.

basic    -- dodge outlines over a light tonal wash, grey.
advanced -- dodge outlines, tone rendered as 45-degree hatching (J = T^K, Lu et al. 2012)
            on warm paper with grain.
artistic -- bolder outlines, strokes that follow the forms plus cross-hatching in the darks.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops, textures
from .base import Ctx

F32 = np.float32
GRAPHITE = (52, 52, 58)
PAPER = (250, 247, 240)


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    # everything full-size is uint8 + lookup tables: cheap and light at 12 MP
    g8 = ops.gray8(rgb)
    g8 = ops.lut_u8(g8, ops.tone_table(g8))
    ctx.report(0.1)
    lines = _outlines(g8, ctx, bold=method == "artistic")
    ctx.report(0.35)
    if method == "basic":
        tone8 = _on_paper(_light_tone(g8, ctx, 0.45), ctx)
        return cv2.multiply(lines, tone8, dst=tone8, scale=1 / 255)
    tone8 = _light_tone(g8, ctx, 0.85)
    shape = g8.shape
    if method == "advanced":
        hatch = textures.hatching(shape, ctx.u, 45.0, ctx.seed, length=22.0)
        shade = _hatched_tone(tone8, hatch)
    else:
        shade = _hatched_tone(tone8, _flow_strokes(g8, ctx))
        ctx.report(0.6)
        # cross-hatching only where the tone is dark
        cross = textures.hatching(shape, ctx.u, 135.0, ctx.seed, length=16.0)
        dark8 = cv2.LUT(tone8, ops.curve_lut(lambda x: np.minimum(x * 1.6, 1.0)))
        shade = cv2.multiply(shade, _hatched_tone(dark8, cross), dst=shade)
    ctx.report(0.75)
    shade8 = _on_paper(ops.to_u8(shade), ctx)
    del shade
    out = cv2.multiply(lines, shade8, dst=shade8, scale=1 / 255)
    return ops.tint(out, GRAPHITE, PAPER)


def _outlines(g8: np.ndarray, ctx: Ctx, bold: bool) -> np.ndarray:
    """Colour-dodge lines (uint8, 255 = paper), darkened by strength."""
    u = ctx.u
    # pre-smooth: dodge amplifies sensor noise in shadows; lift blacks so that flat dark areas
    # divide to white (paper) instead of 0 / 0 = black
    lifted = cv2.LUT(ops.blur(g8, 0.6 * u), ops.curve_lut(lambda x: (40.0 + 215.0 * x) / 255.0))
    sigma = (9.0 - 6.0 * ctx.detail) * u
    d = ops.dodge(lifted, sigma)
    gamma = ctx.lerp(1.6, 5.0) * (1.5 if bold else 1.0)
    return cv2.LUT(d, ops.curve_lut(lambda x: x**gamma), dst=d)


def _light_tone(g8: np.ndarray, ctx: Ctx, amount: float) -> np.ndarray:
    """Smoothed tone lifted towards white (uint8): pencil drawings leave most paper bare."""
    t8 = ops.blur(g8, (2.5 - 1.5 * ctx.detail) * ctx.u)
    a = amount * ctx.lerp(0.55, 1.0)
    # lighten the mid-tones, keep the deep shadows
    return cv2.LUT(t8, ops.curve_lut(lambda x: 1.0 - a * (1.0 - x**0.7)), dst=t8)


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


def _flow_strokes(g8: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Stroke texture that follows the forms: noise smeared along the edge tangents."""
    size = ops.work_size(g8.shape, 1.5)
    small = ops.resize(g8, size).astype(F32) * F32(1 / 255)
    us = ops.unit(small.shape)
    tx, ty, coh = ops.structure_flow(small, 6.0 * us)
    tx, ty = ops.blend_flow(tx, ty, coh, 45.0)
    # sparse dots smeared along the flow become distinct strokes (dense noise gives fur)
    noise = (ctx.rng(5).random(small.shape, dtype=F32) < F32(0.12)).astype(F32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6 * us)
    s = ops.lic(noise, tx, ty, 12.0 * us, steps=8)
    s8 = textures.to_u8(s, -42.0)  # negative spread: a stroke is dark = low value
    return ops.resize(s8, ops.size_of(g8))


def _on_paper(shade8: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Graphite skips the valleys of the paper tooth: lighten marks where the grain is low."""
    grain = textures.paper_grain(shade8.shape, ctx.u, ctx.seed)
    skip = ctx.lerp(0.25, 0.45)
    keep = cv2.LUT(grain, ops.curve_lut(lambda x: 1.0 - skip * np.clip((0.5 - x) * 2.2, 0, 1)))
    dark = cv2.multiply(cv2.bitwise_not(shade8), keep, scale=1 / 255)
    return cv2.bitwise_not(dark)
