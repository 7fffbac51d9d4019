"""Charcoal: directional side-of-stick strokes, smudged velvety blacks, paper tooth.

Charcoal sits on the peaks of the paper: strokes and grain break up the mid-tones while the
darks fill in solid. Tone and outlines come from a calm working copy (``linework``), so photo
noise never turns into speckle; full-size work is mostly uint8 lookups to stay light at 12 MP.

basic    -- contrasty tone and soft outlines, 30-degree strokes over the paper tooth.
advanced -- outlines joined along the flow, a smudged under-layer, lifted highlights.
artistic -- sharper and bolder, strokes that follow the broad forms, heavy smudging.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import linework, ops, textures
from .base import Ctx

F32 = np.float32
BLACK = (22, 21, 22)
PAPER = (243, 240, 233)


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    shape = rgb.shape[:2]
    artistic = method == "artistic"
    # where the stick goes is decided on a calm working copy: photo noise never reaches a
    # threshold (see ``linework``)
    g = linework.calm_tone(rgb, 1.0, passes=1 if method == "basic" else 2)
    us = ops.unit(g.shape)
    noise = linework.noise_level(g)
    soft = ops.blur(g, (3.0 - 2.4 * ctx.detail) * us)
    if artistic:
        b = ops.blur(soft, 3.0 * us)
        soft = ops.clip01(cv2.addWeighted(soft, 1.8, b, -0.8, 0.0))  # unsharp: crisper accents
        del b
    ctx.report(0.15)
    # outlines: the dark lobe of a DoG above the noise, soft and wide like a charcoal line;
    # detail gives finer and more numerous ones
    floor = float(np.clip(3.0 * noise, 0.004, 0.02))
    gain = ctx.lerp(30.0, 70.0) * (1.4 if artistic else 1.0) * (0.5 + ctx.detail)
    line = linework.edge_darkness(g, (2.4 - 1.5 * ctx.detail) * us, gain, floor)
    if method != "basic":
        tx, ty, coh = linework.flow(g, 3.0 * us, 2.0 * noise + 0.002)
        line = linework.join_along_edges(line, tx, ty, coh, 5.0 * us, 1.4)
    line = linework.keep_strokes(line, 0.2, 0.6, (3.0 * us) ** 2)  # no crumbs: strokes only
    ctx.report(0.35)

    # paper above ~0.8 grey, solid black below ~0.15; strength pushes the blacks up
    lo = 0.22 - 0.12 * ctx.strength - (0.05 if artistic else 0.0)
    hi = 0.95 - 0.2 * ctx.strength - (0.08 if artistic else 0.0)
    x = np.linspace(0.0, 1.0, 256)
    dark_small = ops.lut_u8(ops.to_u8(soft), ops.smoothstep(lo, hi, 1.0 - x))
    dark_small = cv2.max(dark_small, ops.to_u8(line))
    dark8 = linework.up(dark_small, shape, smooth=True)
    soft8 = linework.up(ops.to_u8(soft), shape) if method != "basic" else None
    small_g = g if artistic else None
    del line

    grain8 = _grain(dark8.shape, method, small_g, ctx)
    ctx.report(0.6)
    # cover = dark + grain * amp * 4 d (1 - d): the grain only breaks up the mid-tones.
    # int16 arithmetic: full-size float buffers would cost more than the maths
    amp = ctx.lerp(0.14, 0.3) * {"basic": 0.7, "advanced": 1.0, "artistic": 1.2}[method]
    mid8 = ops.lut_u8(dark8, 4.0 * x * (1.0 - x))
    t16 = cv2.subtract(grain8, 128, dtype=cv2.CV_16S)
    t16 = cv2.multiply(t16, mid8, dst=t16, scale=amp * 255.0 / 36.0 / 255.0, dtype=cv2.CV_16S)
    cover8 = cv2.add(t16, dark8, dtype=cv2.CV_8U)
    del t16, mid8
    ctx.report(0.8)
    if method != "basic":
        # smudged under-layer: stick dust rubbed into the valleys of the paper
        smudge8 = ops.blur(dark8, (6.0 if artistic else 4.0) * ctx.u)
        keep = cv2.LUT(smudge8, ops.curve_lut(lambda s: 1.0 - s * ctx.lerp(0.45, 0.7)))
        bare = cv2.multiply(cv2.bitwise_not(cover8), keep, scale=1 / 255)
        # kneaded-eraser highlights: lift the brightest areas back to paper
        lift = cv2.LUT(soft8, ops.curve_lut(lambda s: 0.8 * ops.smoothstep(0.8, 0.97, s)))
        cover8 = cv2.bitwise_not(bare)
        cover8 = cv2.multiply(cover8, cv2.bitwise_not(lift), scale=1 / 255)
    out = cv2.bitwise_not(cover8)
    if method == "basic":
        return out
    return ops.tint(out, BLACK, PAPER)


def _grain(shape: tuple[int, int], method: str, small_g, ctx: Ctx) -> np.ndarray:
    """uint8 grain (128 = mean, ~36 std): side-of-stick strokes over the paper tooth. The
    strokes dominate, so mid-tones break up into directional marks, never into plain noise."""
    tooth = textures.paper_grain(shape, ctx.u, ctx.seed)
    if method == "artistic":
        streak = _flow_streaks(small_g, shape, ctx)
    else:
        streak = linework.strokes(shape, ctx.u, 30.0, ctx.seed, length=40.0 if method == "basic" else 34.0)
    return cv2.addWeighted(tooth, 0.5, streak, 0.8, 128.0 * (1.0 - 1.3))


def _flow_streaks(small: np.ndarray, shape: tuple[int, int], ctx: Ctx) -> np.ndarray:
    """Strokes along the broad forms (a coarse, confident flow), 30 degrees where there are
    none: a flat background gets straight strokes, never swirls."""
    tx, ty = linework.broad_flow(small, 30.0, ops.size_of(small))
    us = ops.unit(small.shape)
    noise = textures.value_noise(small.shape, 1.2 * us, ctx.seed, 7)
    s = ops.lic(noise, tx, ty, 16.0 * us, steps=8)
    return linework.up(textures.to_u8(s, 40.0), shape)
