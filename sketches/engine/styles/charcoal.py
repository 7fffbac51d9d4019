"""Charcoal: deep blacks, smudged tone, and the paper tooth showing through the mid-tones.

Charcoal sits on the peaks of the paper: the grain breaks up the mid-tones (white specks of
paper) while the darks fill in solid. Full-size work is mostly uint8 lookups to stay light on
memory at 12 MP.

basic    -- contrasty tone and outlines, paper tooth.
advanced -- adds a smudged under-layer, side-of-stick streaks and lifted highlights.
artistic -- sharper and bolder, strokes that follow the forms, heavy smudging.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops, textures
from .base import Ctx

F32 = np.float32
BLACK = (22, 21, 22)
PAPER = (243, 240, 233)


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    u = ctx.u
    artistic = method == "artistic"
    g8 = ops.gray8(rgb)
    g8 = ops.lut_u8(g8, ops.tone_table(g8))
    soft8 = ops.blur(g8, (4.0 - 3.4 * ctx.detail) * u)
    g = ops.lut_f32(g8, np.arange(256) / 255.0)
    if artistic:
        b = ops.blur(g, 3.0 * u)
        g = ops.clip01(cv2.addWeighted(g, 1.8, b, -0.8, 0.0))  # unsharp: crisper accents
        del b
    ctx.report(0.15)
    # detail: finer and more numerous outlines
    gain = ctx.lerp(6.0, 14.0) * (1.5 if artistic else 1.0) * (0.5 + ctx.detail)
    lines8 = ops.to_u8(ops.dog_lines(g, (2.2 - 1.5 * ctx.detail) * u, gain))
    small_g = ops.resize(g, ops.work_size(g.shape, 1.0)) if artistic else None
    del g
    ctx.report(0.35)

    # paper above ~0.8 grey, solid black below ~0.15; strength pushes the blacks up
    lo = 0.22 - 0.12 * ctx.strength - (0.05 if artistic else 0.0)
    hi = 0.95 - 0.2 * ctx.strength - (0.08 if artistic else 0.0)
    x = np.linspace(0.0, 1.0, 256)
    dark8 = ops.lut_u8(soft8, ops.smoothstep(lo, hi, 1.0 - x))
    dark8 = cv2.max(dark8, lines8)
    del lines8

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
        smudge8 = ops.blur(dark8, (6.0 if artistic else 4.0) * u)
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
    """uint8 grain (128 = mean, ~36 std): paper tooth, plus stick streaks for richer methods."""
    tooth = textures.paper_grain(shape, ctx.u, ctx.seed)
    if method == "basic":
        return tooth
    if method == "advanced":
        streak = textures.hatching(shape, ctx.u, 30.0, ctx.seed, length=40.0, width=2.0)
    else:
        streak = _flow_streaks(small_g, shape, ctx)
    return cv2.addWeighted(tooth, 0.8, streak, 0.6, 128.0 * (1.0 - 1.4))


def _flow_streaks(small: np.ndarray, shape: tuple[int, int], ctx: Ctx) -> np.ndarray:
    us = ops.unit(small.shape)
    tx, ty, coh = ops.structure_flow(small, 8.0 * us)
    tx, ty = ops.blend_flow(tx, ty, coh, 30.0)
    noise = textures.value_noise(small.shape, 1.5 * us, ctx.seed, 7)
    s = ops.lic(noise, tx, ty, 16.0 * us, steps=8)
    return ops.resize(textures.to_u8(s, 40.0), (shape[1], shape[0]))
