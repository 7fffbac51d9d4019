"""Oil: thick brush strokes (Kuwahara + paint dragged along the forms) lit as raised paint.

Three sizes: paint colour at a working size (~0.3-1 MP; strokes are large), the bristle
marks and their lighting at a texture size (<= 3 MP, fine enough for single bristles) and the
final composite at full size, where the lit relief gives the crisp detail.

basic    -- quick wet paint: bilateral smoothing dragged along the flow, light impasto.
advanced -- soft Kuwahara, paint and bristles dragged along the image flow, impasto, canvas.
artistic -- impressionist: big strokes of broken, vivid colour, heavy impasto.
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
    mp = {"basic": 0.4, "advanced": 1.0, "artistic": 0.3}[method]
    small = ops.normalize_colour(ops.resize(rgb, ops.detail_size(shape, mp, ctx.detail)), 0.4, 0.5)
    small = small.astype(F32) * F32(1 / 255)
    us = ops.unit(small.shape)
    ctx.report(0.1)

    tex_size = ops.work_size(shape, 0.6 if method == "basic" else 3.0)
    if method == "basic":
        # quick wet paint: edge-preserving smoothing, then dragged along the forms
        paint = cv2.bilateralFilter(small, 9, 0.25, 4.0 * us)
        radius = 0
    else:
        radius = max(1, round((4.0 - 2.0 * ctx.detail) * us * (1.3 if artistic else 1.0)))
        paint = ops.smooth_kuwahara(small, radius)
    ctx.report(0.25)
    g = cv2.cvtColor(paint, cv2.COLOR_RGB2GRAY)
    tx, ty, coh = ops.structure_flow(g, 6.0 * us)
    tx, ty = ops.blend_flow(tx, ty, coh, 35.0)
    # basic: a broad, loose brush; advanced: shorter strokes that keep the drawing
    length = {"basic": 10.0, "advanced": 6.0, "artistic": 12.0}[method] * (1.3 - 0.6 * ctx.detail) * us
    # drag the paint along the forms, as a loaded brush does
    paint = ops.lic(paint, tx, ty, length, steps=4 if method == "basic" else 5)
    # each stroke carries its own mix of paint; impressionist dabs vary in hue as well
    dab = None
    if method != "basic":
        dab = ops.lic(textures.value_noise(g.shape, 4.0 * us, ctx.seed, 82), tx, ty, length, steps=5)
    if artistic:
        hue = ops.lic(textures.value_noise(g.shape, 4.0 * us, ctx.seed, 83), tx, ty, length, steps=5)
        paint = _broken_colour(paint, dab, hue, ctx)
    elif dab is not None:
        paint *= (F32(1.0) + dab * F32(0.04))[..., None]
    # strength: more vivid paint
    paint = _vivid(paint, ctx.lerp(0.9, 1.25))
    ctx.report(0.45)
    bristle = _bristles(tx, ty, tex_size, ctx, {"basic": 6.0, "advanced": 8.0, "artistic": 12.0}[method])
    if artistic:  # dab edges catch the light too
        bristle += ops.resize(textures.normalise(dab), tex_size) * F32(0.8)
    ctx.report(0.6)

    shade, spec = _impasto(_height(paint, bristle, tex_size), ctx, method)
    colour = ops.resize(ops.to_u8(paint), full, smooth=True)
    shade = ops.resize(shade, full, smooth=True)
    spec = None if spec is None else ops.resize(spec, full, smooth=True)
    if method != "basic":
        canvas = textures.canvas(shape, ctx.u, ctx.seed)
        # the weave shows a little everywhere (thin paint film), lit like the strokes
        shade = cv2.addWeighted(shade, 1.0, textures.relief(canvas, 0.25), 1.0, -128.0)
    ctx.report(0.85)
    out = ops.multiply_rgb(colour, shade)
    return out if spec is None else ops.add_rgb(out, spec)


def _vivid(c: np.ndarray, amount: float) -> np.ndarray:
    lum = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)[..., None]
    return ops.clip01(lum + (c - lum) * F32(amount))


def _broken_colour(paint: np.ndarray, dab_l: np.ndarray, dab_h: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Impressionist dabs: vivid colour, each dab a little lighter/darker and warmer/cooler."""
    lab = cv2.cvtColor(paint, cv2.COLOR_RGB2Lab)
    lab[..., 0] += dab_l * F32(ctx.lerp(3.0, 7.0))
    lab[..., 1:] *= F32(1.35)
    lab[..., 1] += dab_h * F32(ctx.lerp(4.0, 9.0))
    lab[..., 2] -= dab_h * F32(ctx.lerp(4.0, 9.0))
    return ops.clip01(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB))


def _bristles(tx: np.ndarray, ty: np.ndarray, size: tuple[int, int], ctx: Ctx, length: float) -> np.ndarray:
    """Fine bristle grooves along the flow, drawn at the texture size (zero mean, unit std)."""
    tx = ops.resize(tx, size)
    ty = ops.resize(ty, size)
    n = cv2.magnitude(tx, ty) + F32(1e-6)  # re-normalise after interpolation
    ut = ops.unit((size[1], size[0]))
    noise = textures.value_noise((size[1], size[0]), max(1.0, 0.8 * ut), ctx.seed, 81)
    return textures.normalise(ops.lic(noise, tx / n, ty / n, length * ut, steps=6))


def _height(paint: np.ndarray, bristle: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Paint thickness at the texture size: bristles, thicker paint in the lights, stroke ridges."""
    lum = cv2.cvtColor(paint, cv2.COLOR_RGB2GRAY)
    ridge = ops.gradient_magnitude(cv2.GaussianBlur(lum, (0, 0), 1.5 * ops.unit(lum.shape)))
    ridge *= F32(1.0 / max(float(np.percentile(ridge, 98)), 1e-4))
    base = np.clip(ridge, 0.0, 1.0) * F32(0.25) + lum * F32(0.5)
    return ops.resize(base, size, smooth=True) + bristle * F32(0.1)


def _impasto(height: np.ndarray, ctx: Ctx, method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Light the paint surface from the top left: (uint8 shade ~238 when flat, uint8 glints)."""
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3)
    # normal . light for a light from the upper left: slopes facing it brighten
    lit = cv2.addWeighted(gx, -0.7, gy, -0.7, 0.0)
    # fixed scale (the 99th percentile of |lit| is ~1 on typical photos at the texture size):
    # a flat picture keeps flat paint instead of having its faint relief blown up
    k = {"basic": 0.45, "advanced": 1.2, "artistic": 1.5}[method] * ctx.lerp(0.6, 1.4)
    lit *= F32(k)
    shade = cv2.addWeighted(lit, 40.0, lit, 0.0, 238.0, dtype=cv2.CV_8U)
    if method == "basic":
        return shade, None  # no glints: thin paint
    spec = cv2.addWeighted(lit, 90.0, lit, 0.0, -50.0, dtype=cv2.CV_8U)  # glints on ridges
    return shade, spec
