"""Acrylic: flat, opaque colour shapes with firm edges, brushed blends and visible brush grain.

The picture is smoothed at a working size and a palette is fitted there (k-means in Lab).
The smooth field is then resized to full size and snapped to the palette per pixel, so the
region borders are crisp and follow smooth curves instead of being blocky upscaled labels.

Where the photo has a smooth gradient (a sky, blurred lights), snapping alone would give
stepped bands. A painter blends such a gradient with the brush: strokes carry each colour into
its neighbour's band. So before the snap, every stroke of a brush pattern that follows the
forms drags the paint from a little way across them; a flat area stays one opaque colour (its
paint looks the same wherever it comes from) and object edges stay firm (no drag near strong
edges). A matte bristle grain shades the paint; there are no glints (acrylic dries matte,
unlike oil).

basic    -- two smoothing passes, small palette, brushed blends, light grain.
advanced -- stronger edge-preserving smoothing, richer palette, brush grain and canvas.
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
    k = round({"basic": 9, "advanced": 12, "artistic": 9}[method] + 8 * ctx.detail)
    palette = ops.kmeans_palette(smooth, k, ctx.seed)
    # strength: bolder paint (more saturated palette, a touch more contrast)
    palette = ops.saturate(palette[None], ctx.lerp(1.0, 1.4) * (1.25 if artistic else 1.0))[0]
    contrast = ops.curve_lut(lambda v: v - ctx.lerp(-0.02, 0.05) * np.sin(2 * np.pi * v))
    palette = cv2.LUT(palette[None], contrast)[0]
    lut = ops.palette_lut(palette)
    ctx.report(0.45)

    g = ops.gray(smooth)
    # a calm flow: strokes bend with the big forms only; where the picture has no clear
    # direction (sand, foliage, noise) they keep one slant instead of swirling like marble
    tx, ty, coh = ops.structure_flow(g, 14.0 * us)
    tx, ty = ops.blend_flow(tx, ty, coh, 20.0, min_coh=0.6)
    strokes = _strokes(g, tx, ty, ctx, us, method)
    pushed = _drag(smooth, strokes, g, tx, ty, {"basic": 24.0, "advanced": 24.0, "artistic": 30.0}[method] * us)
    # the field is soft after resizing; snapping it to the palette gives clean curved borders
    field = ops.resize(pushed, full, smooth=True)
    flat = ops.apply_palette(field, lut)
    del field
    ctx.report(0.7)
    shade = _grain(shape, tx, ty, strokes, ctx, us, method)
    out = ops.multiply_rgb(flat, shade)
    ctx.report(0.85)
    if artistic:
        out = _outline(flat, out, _structure(small, us), ctx)
    return out


def _strokes(g: np.ndarray, tx: np.ndarray, ty: np.ndarray, ctx: Ctx, us: float, method: str) -> np.ndarray:
    """Brush strokes as a zero-mean, unit-std field: noise of stroke width dragged along the flow."""
    artistic = method == "artistic"
    noise = textures.value_noise(g.shape, (6.0 if artistic else 4.5) * us, ctx.seed, 92)
    length = (30.0 if artistic else 22.0) * us
    s = textures.normalise(ops.lic(noise, tx, ty, length, steps=5))
    # firmer stroke sides: a brush lays paint of one mix, not a soft cloud
    np.tanh(s, out=s)
    return s


def _drag(smooth: np.ndarray, strokes: np.ndarray, g: np.ndarray, tx: np.ndarray, ty: np.ndarray, reach: float) -> np.ndarray:
    """Brushed blends: each stroke drags the paint from up to ``reach`` px away across the
    forms (perpendicular to the flow), so neighbouring colours of a gradient interlock in
    strokes. A flat area looks the same wherever its paint comes from, so it stays one colour;
    strong edges are left firm (no drag across them)."""
    calm = _calm(g, reach)
    d = strokes * calm
    d *= F32(reach)
    h, w = g.shape
    mx = np.arange(w, dtype=F32)[None, :] + ty * d
    my = np.arange(h, dtype=F32)[:, None] - tx * d
    return cv2.remap(smooth, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _calm(g: np.ndarray, reach: float) -> np.ndarray:
    """1 where no strong edge lies within ``reach`` px, falling to 0 on and near edges."""
    mag = ops.gradient_magnitude(cv2.GaussianBlur(g, (0, 0), 1.0))
    edge = ops.smoothstep(0.12, 0.35, mag)
    # the nearest edge within reach: a max filter, run at a quarter size (it is smooth anyway)
    h, w = g.shape
    f = max(1, int(reach / 4))
    small = cv2.resize(edge, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    r = max(1, round(reach / f))
    near = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    near = cv2.GaussianBlur(near, (0, 0), max(0.5, r / 2))
    return F32(1.0) - np.clip(cv2.resize(near, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def _grain(
    shape: tuple[int, int], tx: np.ndarray, ty: np.ndarray, strokes: np.ndarray, ctx: Ctx, us: float, method: str
) -> np.ndarray:
    """uint8 shade ~244: matte bristle grain dragged along the forms, each stroke a shade
    lighter or darker (one load of paint), plus the canvas weave."""
    artistic = method == "artistic"
    noise = textures.value_noise(tx.shape, 1.5 * us, ctx.seed, 91)
    s = ops.lic(noise, tx, ty, (14.0 if artistic else 10.0) * us, steps=5)
    s = cv2.scaleAdd(strokes, 0.5, s)
    amp = ctx.lerp(7.0, 16.0) * {"basic": 1.0, "advanced": 1.1, "artistic": 1.4}[method]
    # to uint8 before resizing: a quarter of the memory traffic of a full-size float field
    shade = ops.resize(textures.to_u8(s, amp, 244.0), (shape[1], shape[0]))
    if method == "basic":
        return shade
    canvas = textures.relief(textures.canvas(shape, ctx.u, ctx.seed), 0.15)
    return cv2.addWeighted(shade, 1.0, canvas, 1.0, -128.0)


def _structure(small: np.ndarray, us: float) -> np.ndarray:
    """uint8 mask of the picture's strong edges (object outlines, not shading steps)."""
    g = ops.gray(cv2.GaussianBlur(small, (0, 0), 1.2 * us))
    mag = ops.gradient_magnitude(g)
    lo, hi = np.percentile(mag, (85, 97))
    # an absolute floor too: a smooth gradient (or its noise) has no outlines to draw
    lo, hi = max(float(lo), 0.12), max(float(hi), 0.3)
    mask = ops.smoothstep(lo, max(hi, lo + 1e-3), mag)
    return ops.to_u8(cv2.dilate(mask, np.ones((3, 3), np.uint8)))


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
