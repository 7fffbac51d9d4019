"""Acrylic: flat, bold colour areas with crisp edges and a little brush texture.

The picture is smoothed at a working size and a palette is fitted there (k-means in Lab).
The smooth field is then resized to full size and snapped to the palette per pixel, so the
region borders are crisp and follow smooth curves instead of being blocky upscaled labels.

basic    -- one smoothing pass, small palette, no texture.
advanced -- stronger edge-preserving smoothing, richer palette, brush marks and canvas.
artistic -- bold saturated palette, dark outlines around the shapes, heavier brush marks.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops, textures
from .base import Ctx

F32 = np.float32


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    full = ops.size_of(rgb)
    shape = rgb.shape[:2]
    artistic = method == "artistic"
    small = ops.resize(rgb, ops.detail_size(shape, 0.3 if method == "basic" else 0.5, ctx.detail))
    small = ops.normalize_colour(small, 0.4, 0.5)
    us = ops.unit(small.shape)
    ctx.report(0.1)

    passes = {"basic": 2, "advanced": 4, "artistic": 4}[method]
    smooth = ops.bilateral(small, (3.0 - 1.0 * ctx.detail) * us, 35.0, passes)
    smooth = cv2.medianBlur(smooth, 5)
    if artistic:
        smooth = ops.saturate(smooth, 1.4)
    ctx.report(0.35)
    k = round({"basic": 9, "advanced": 12, "artistic": 7}[method] + 8 * ctx.detail)
    palette = ops.kmeans_palette(smooth, k, ctx.seed)
    # strength: bolder paint (more saturated palette, a touch more contrast)
    palette = ops.saturate(palette[None], ctx.lerp(0.85, 1.3) * (1.3 if artistic else 1.0))[0]
    contrast = ops.curve_lut(lambda v: v - ctx.lerp(-0.02, 0.05) * np.sin(2 * np.pi * v))
    palette = cv2.LUT(palette[None], contrast)[0]
    lut = ops.palette_lut(palette)
    ctx.report(0.5)
    # the field is soft after resizing; snapping it to the palette gives clean curved borders
    field = ops.resize(smooth, full, smooth=True)
    flat = ops.apply_palette(field, lut)
    del field
    ctx.report(0.7)
    if method == "basic":
        return flat
    shade = _brush(shape, small, ctx, us, artistic)
    out = ops.multiply_rgb(flat, shade)
    ctx.report(0.85)
    if artistic:
        out = _outline(flat, out, _structure(small, us), ctx)
    return out


def _structure(small: np.ndarray, us: float) -> np.ndarray:
    """uint8 mask of the picture's strong edges (object outlines, not shading steps)."""
    g = ops.gray(cv2.GaussianBlur(small, (0, 0), 1.2 * us))
    mag = ops.gradient_magnitude(g)
    lo, hi = np.percentile(mag, (85, 97))
    mask = ops.smoothstep(float(lo), float(max(hi, lo + 1e-3)), mag)
    return ops.to_u8(cv2.dilate(mask, np.ones((3, 3), np.uint8)))


def _brush(shape: tuple[int, int], small: np.ndarray, ctx: Ctx, us: float, artistic: bool) -> np.ndarray:
    """uint8 shade ~245: dragged brush marks following the forms, plus a faint canvas."""
    g = ops.gray(small)
    tx, ty, coh = ops.structure_flow(g, 8.0 * us)
    tx, ty = ops.blend_flow(tx, ty, coh, 20.0)
    noise = textures.value_noise(g.shape, 1.5 * us, ctx.seed, 91)
    s = ops.lic(noise, tx, ty, (14.0 if artistic else 10.0) * us, steps=5)
    s = textures.normalise(s)
    s = ops.resize(s, (shape[1], shape[0]))
    amp = ctx.lerp(6.0, 14.0) * (1.4 if artistic else 1.0)
    shade = cv2.addWeighted(s, amp, s, 0.0, 244.0, dtype=cv2.CV_8U)
    canvas = textures.relief(textures.canvas(shape, ctx.u, ctx.seed), 0.15)
    return cv2.addWeighted(shade, 1.0, canvas, 1.0, -128.0)


def _outline(flat: np.ndarray, out: np.ndarray, strong8: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Dark contour where two colour areas meet along a strong edge, a few pixels wide."""
    r = max(1, round(0.9 * ctx.u))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    grad = cv2.morphologyEx(flat, cv2.MORPH_GRADIENT, kernel)
    edge = cv2.max(cv2.max(grad[..., 0], grad[..., 1]), grad[..., 2])
    del grad
    # only borders between clearly different colours get a line, not every shading step
    edge = cv2.threshold(edge, ctx.lerp(60.0, 35.0), 255, cv2.THRESH_BINARY)[1]
    edge = cv2.min(edge, ops.resize(strong8, (edge.shape[1], edge.shape[0])))
    edge = cv2.GaussianBlur(edge, (0, 0), max(0.5, 0.5 * ctx.u))
    keep = cv2.LUT(edge, ops.curve_lut(lambda x: 1.0 - 0.8 * x))
    return ops.multiply_rgb(out, keep)
