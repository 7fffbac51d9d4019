"""Oil: thick, curved brush strokes that follow the forms, lit as raised paint.

Stroke-based painting (Hertzmann 1998): an edge-preserving abstraction of the photo (bilateral
or anisotropic Kuwahara-like smoothing) is painted over with layers of curved strokes, large
brushes first and smaller ones only where the large ones missed detail. Every stroke also
leaves its own paint thickness, so the relief has one ridge per stroke; with the bristle
grooves dragged along the flow, that relief is lit from the upper left (impasto).

Three sizes: strokes at a working size (~0.4-1 MP; they are large), the relief and its
lighting at a texture size (fine enough for single bristles) and the composite at full size.

basic    -- quick: one coarse and one finer layer of strokes, bristles, light impasto with soft glints.
advanced -- careful: Kuwahara abstraction, three brush sizes down to small detail, canvas.
artistic -- expressive: big loose strokes of broken, vivid colour, heavy impasto.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .. import brush, ops, textures
from .base import Ctx

F32 = np.float32

# brushes per method: (radius, length) in reference pixels, refinement threshold (None = cover
# all), points per half stroke
_BRUSHES = {
    "basic": [(7.0, 36.0, None, 3), (3.5, 18.0, 22.0, 3)],
    "advanced": [(6.0, 36.0, None, 4), (3.0, 18.0, 14.0, 4)],
    "artistic": [(11.0, 60.0, None, 5), (5.5, 30.0, 16.0, 4)],
}


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    full = ops.size_of(rgb)
    shape = rgb.shape[:2]
    artistic = method == "artistic"
    mp = {"basic": 0.3, "advanced": 1.0, "artistic": 0.5}[method]
    small = ops.normalize_colour(ops.resize(rgb, ops.detail_size(shape, mp, ctx.detail)), 0.4, 0.5)
    us = ops.unit(small.shape)
    ctx.report(0.1)

    if method == "basic":
        paint = cv2.bilateralFilter(small, 7, 30.0, 3.0 * us)
    else:
        radius = max(1, round((3.0 - 1.5 * ctx.detail) * us * (1.3 if artistic else 1.0)))
        paint = ops.to_u8(ops.smooth_kuwahara(small.astype(F32) * F32(1 / 255), radius))
    if artistic:
        paint = ops.saturate(paint, 1.3)
    ctx.report(0.25)
    g = ops.gray(paint)
    tx, ty, coh = ops.structure_flow(g, 6.0 * us)
    tx, ty = ops.blend_flow(tx, ty, coh, 35.0)

    canvas = brush.underpaint(cv2.GaussianBlur(paint, (0, 0), 2.0 * us))
    rng = ctx.rng(84)
    size = 1.3 - 0.6 * ctx.detail
    for r, length, thr, steps in _BRUSHES[method]:
        brush.layer(
            canvas,
            paint,
            tx,
            ty,
            rng,
            radius=r * size * us,
            length=length * size * us,
            threshold=thr,
            shade=0.06 if artistic else 0.035,
            hue=0.03 if artistic else 0.0,
            stop=60.0 if artistic else 45.0,
            coverage=1.3 if method == "advanced" else 1.5,
            lights_last=thr is not None,
            steps=steps,
        )
    ctx.report(0.45)
    colour = canvas[..., :3]
    if method == "advanced":
        colour = _restore(colour, paint, us)
    if method == "advanced":
        # wet paint: strokes blend into each other a little along their direction
        colour = ops.to_u8(ops.lic(colour.astype(F32) * F32(1 / 255), tx, ty, 2.0 * us, steps=2))
    colour = _vivid(colour, ctx.lerp(0.9, 1.25) * (1.15 if artistic else 1.0))

    tex_size = ops.work_size(shape, 0.5 if method == "basic" else 2.0)
    bristle = _bristles(tx, ty, tex_size, ctx, {"basic": 6.0, "advanced": 8.0, "artistic": 12.0}[method], 4)
    ctx.report(0.6)
    shade, spec = _impasto(_height(canvas[..., 3], bristle, tex_size), ctx, method)
    # light the paint at the texture size, where the relief lives, and resize once
    colour = ops.resize(colour, tex_size, smooth=True)
    s3 = cv2.cvtColor(shade, cv2.COLOR_GRAY2RGB)
    # basic: shade above the flat level (218) brightens the lit slopes instead of glints
    lit = cv2.multiply(colour, s3, dst=s3, scale=1 / (218 if method == "basic" else 255))
    if spec is not None:
        lit = ops.add_rgb(lit, spec)
    out = ops.resize(lit, full, smooth=True)
    if method == "basic":
        return out
    ctx.report(0.85)
    # the canvas weave shows a little everywhere (thin paint film), lit like the strokes
    weave = cv2.cvtColor(textures.relief(textures.canvas(shape, ctx.u, ctx.seed), 0.2), cv2.COLOR_GRAY2RGB)
    return cv2.multiply(out, weave, dst=weave, scale=1 / 128)


def _restore(colour: np.ndarray, paint: np.ndarray, us: float) -> np.ndarray:
    """Careful painting: where the strokes still miss the picture by a lot (thin lines, small
    highlights), let the abstraction show through, as a painter's last small touches."""
    err = cv2.cvtColor(cv2.absdiff(colour, paint), cv2.COLOR_RGB2GRAY)
    err = cv2.GaussianBlur(err, (0, 0), 1.0 * us)
    alpha = cv2.LUT(err, ops.curve_lut(lambda x: np.clip((x * 255.0 - 14.0) / 26.0, 0.0, 1.0)))
    return ops.mix_rgb(paint, colour, alpha)


def _vivid(c8: np.ndarray, amount: float) -> np.ndarray:
    return ops.saturate(c8, amount)


def _bristles(tx: np.ndarray, ty: np.ndarray, size: tuple[int, int], ctx: Ctx, length: float, steps: int) -> np.ndarray:
    """Fine bristle grooves along the flow, drawn at the texture size (zero mean, unit std)."""
    tx = ops.resize(tx, size)
    ty = ops.resize(ty, size)
    n = cv2.magnitude(tx, ty) + F32(1e-6)  # re-normalise after interpolation
    ut = ops.unit((size[1], size[0]))
    tx, ty = tx / n, ty / n
    cell = max(1.0, 0.8 * ut)
    noise = textures.value_noise((size[1], size[0]), cell, ctx.seed, 81)
    # samples along a stroke no further apart than the noise cells, or the grooves break into
    # a beaded, herringbone pattern; long grooves are a second pass over the short ones
    total = length * ut
    first = min(total, steps * cell)
    s = ops.lic(noise, tx, ty, first, steps=steps)
    if total > 1.05 * first:
        s = ops.lic(s, tx, ty, total, steps=math.ceil(total / first))
    return textures.normalise(s)


def _height(thick8: np.ndarray, bristle: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Paint thickness at the texture size: one raised body per stroke, bristle grooves in it."""
    t = ops.resize(thick8, size, smooth=True).astype(F32) * F32(1 / 255)
    ut = ops.unit((size[1], size[0]))
    t = cv2.GaussianBlur(t, (0, 0), 1.6 * ut)  # strokes are rounded ridges, not cut blocks
    return cv2.scaleAdd(bristle, 0.07, t)


def _impasto(height: np.ndarray, ctx: Ctx, method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Light the paint surface from the top left: (uint8 shade, flat at 218 or 232; uint8 glints)."""
    ut = ops.unit(height.shape)
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3)
    # normal . light for a light from the upper left: slopes facing it brighten
    lit = cv2.addWeighted(gx, -0.7, gy, -0.7, 0.0)
    # slopes per reference pixel, so the relief looks the same at every picture size
    k = {"basic": 2.2, "advanced": 2.0, "artistic": 2.4}[method] * ctx.lerp(0.6, 1.4) * ut
    lit *= F32(k)
    # steep stroke edges saturate softly instead of turning black or white
    np.tanh(lit, out=lit)
    flat = 218.0 if method == "basic" else 232.0
    shade = cv2.addWeighted(lit, 45.0, lit, 0.0, flat, dtype=cv2.CV_8U)
    # glints on the ridges: shading alone hardly shows on dark paint, where a light catches
    # the wet ridges all the same (basic: fewer and softer)
    gain, offset = (70.0, -30.0) if method == "basic" else (80.0, -44.0)
    spec = cv2.addWeighted(lit, gain, lit, 0.0, offset, dtype=cv2.CV_8U)
    return shade, spec
