"""Pastel: soft, chalky colour laid in strokes on toned paper, the paper showing between them.

Colour is simplified and lightened at a working size; the chalk coverage (strokes plus paper
tooth) is decided at full size, so the grain stays crisp.

basic    -- blurred colour, diagonal strokes on warm grey paper.
advanced -- edge-preserving colour smeared along the forms, strokes that follow them.
artistic -- dark paper, bolder and more saturated strokes, pastel-pencil contours.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops, textures
from .base import Ctx

F32 = np.float32
PAPER_LIGHT = np.array([196, 186, 168], F32) / 255  # warm grey (Mi-Teintes "sand")
PAPER_DARK = np.array([62, 68, 82], F32) / 255  # slate blue-grey


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    full = ops.size_of(rgb)
    shape = rgb.shape[:2]
    artistic = method == "artistic"
    small = ops.resize(rgb, ops.detail_size(shape, 0.3 if method == "basic" else 0.6, ctx.detail))
    small = ops.normalize_colour(small, 0.55, 0.7)
    us = ops.unit(small.shape)
    ctx.report(0.1)

    if method == "basic":
        colour = cv2.GaussianBlur(small, (0, 0), (4.0 - 3.2 * ctx.detail) * us).astype(F32)
        flow = None
    else:
        colour = ops.bilateral(small, (4.0 - 3.0 * ctx.detail) * us, 30.0, passes=2).astype(F32)
        tx, ty, coh = ops.structure_flow(ops.gray(small), 8.0 * us)
        flow = ops.blend_flow(tx, ty, coh, 60.0)
        # smear colour along the strokes, as a stick of pastel drags it
        colour = ops.lic(colour, *flow, (10.0 - 7.0 * ctx.detail) * us, steps=4)
    ctx.report(0.3)

    chalk = _chalk_colour(colour * F32(1 / 255), ctx, method)
    paper = PAPER_DARK if artistic else PAPER_LIGHT
    # pressure: press harder where the colour is far from the paper tone
    dist = np.sqrt(((chalk - paper[None, None, :]) ** 2).sum(axis=2))
    # basic is blended (finger-smudged) pastel: more chalk, less paper
    base = ctx.lerp(0.3, 0.45) + (0.2 if method == "basic" else 0.0)
    pressure8 = ops.to_u8(dist * F32(1.8) + F32(base))
    chalk8 = ops.resize(ops.to_u8(chalk), full, smooth=True)
    del chalk, colour
    strokes8 = _strokes(shape, flow, ctx, method)
    ctx.report(0.55)

    if method != "basic":  # each stroke deposits a slightly lighter or darker chalk
        k = ctx.lerp(0.15, 0.3)
        chalk8 = ops.multiply_rgb(chalk8, cv2.LUT(strokes8, ops.curve_lut(lambda v: 0.9 + (v - 0.5) * k)))
    # chalk catches on the peaks of the paper tooth and along the stroke marks
    grain8 = textures.cells(shape, ctx.u, ctx.seed)
    a = ctx.lerp(1.0, 1.3)
    t8 = cv2.addWeighted(ops.resize(pressure8, full), 1.0, grain8, a, -128.0 * a)
    t8 = cv2.addWeighted(t8, 1.0, strokes8, 0.5, -64.0)
    cover8 = cv2.LUT(t8, ops.curve_lut(lambda v: ops.smoothstep(0.35, 0.8, v)))
    del t8
    ctx.report(0.75)
    out = ops.mix_rgb(chalk8, _paper(grain8, paper), cover8)
    ctx.report(0.85)
    if artistic:
        out = _contours(rgb, out, ctx)
    return out


def _chalk_colour(c: np.ndarray, ctx: Ctx, method: str) -> np.ndarray:
    """Pastel sticks are pigment plus white chalk: lighter, a little desaturated, few darks."""
    lum = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)[..., None]
    sat = {"basic": 0.95, "advanced": 1.1, "artistic": 1.3}[method]
    c = lum + (c - lum) * F32(sat)
    white = F32(ctx.lerp(0.28, 0.12) * {"basic": 1.0, "advanced": 0.7, "artistic": 0.4}[method])
    c = c * (F32(1.0) - white) + white
    # compress the darkest values: there is no true black stick in a soft-pastel box
    return ops.clip01(F32(0.08) + c * F32(0.92))


def _strokes(shape: tuple[int, int], flow, ctx: Ctx, method: str) -> np.ndarray:
    """uint8 stroke marks (128 = mean) at full size, drawn at a texture size of <= 2 MP."""
    size = ops.work_size(shape, 1.0 if flow is None else 2.0)
    ut = ops.unit((size[1], size[0]))
    if flow is None:
        h8 = textures.hatching(
            (size[1], size[0]), ut, 60.0, ctx.seed, length=round(34.0 - 20.0 * ctx.detail), width=round(4.0 - 2.0 * ctx.detail)
        )
        return ops.resize(h8, (shape[1], shape[0]))
    tx, ty = (ops.resize(f, size) for f in flow)
    n = cv2.magnitude(tx, ty) + F32(1e-6)
    # detail: short, fine strokes; low detail: long, broad ones
    noise = textures.value_noise((size[1], size[0]), (4.0 - 2.5 * ctx.detail) * ut, ctx.seed, 71)
    length = (18.0 if method == "artistic" else 14.0) * (1.5 - ctx.detail) * ut
    s = ops.lic(noise, tx / n, ty / n, length, steps=6)
    return ops.resize(textures.to_u8(s, 40.0), (shape[1], shape[0]))


def _paper(grain8: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Toned paper with its tooth lit (uint8 RGB): one lookup per channel."""
    relief = textures.relief(grain8, 0.4)
    return cv2.merge([cv2.LUT(relief, ops.curve_lut(lambda v, c=c: c + (v - 0.5))) for c in paper])


def _contours(rgb: np.ndarray, out: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Soft dark pastel-pencil lines along the main edges."""
    g = ops.gray(rgb)
    lines = ops.dog_lines(g, 1.6 * ctx.u, ctx.lerp(4.0, 8.0))
    lines = ops.blur(lines, 0.6 * ctx.u)
    keep = ops.to_u8(F32(1.0) - lines * F32(0.7))
    return ops.multiply_rgb(out, keep)
