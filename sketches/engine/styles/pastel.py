"""Soft pastel: short chalky strokes that follow the forms, on toned paper whose tooth shows.

Colour is simplified and lightened at a small working size (pastel sticks are pigment plus
chalk: few darks, a little white in everything). The strokes are real discrete marks, drawn
on a stroke canvas of one or two megapixels in a seeded random order: each is a short,
straight, round-ended band of one chalk colour (sampled under it, slightly varied from stroke
to stroke), laid along the edge direction where the picture has one and at a constant hand
angle where it does not, and shorter across strong edges (stroke-based painting, Hertzmann
1998; a second, finer layer goes only where the first one missed the picture). Each stroke
also carries a pressure: dark sticks are pressed less, so the paper shows more in the darks.

At full size the paper's tooth decides, smoothly, how much chalk each point holds: a fine
even grain, never hard-thresholded, so it reads as paper and not as sprinkled specks. The
paper is matte and toned; the chalk sits on it without any shine.

basic    -- quick: a finger-blended underlayer and one layer of broad strokes, sand paper.
advanced -- careful: a thin blended layer, strokes along the forms, a finer second layer.
artistic -- expressive: longer, bolder, more saturated strokes on light blue-grey paper, no
            blending, more paper left between the marks.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .. import ops, textures
from . import media
from .base import Ctx

F32 = np.float32
PAPER_SAND = np.array([204, 192, 170], F32) / 255  # warm light grey (Mi-Teintes "sand")
PAPER_BLUE = np.array([164, 174, 184], F32) / 255  # light blue-grey (Mi-Teintes "sky blue" family)

# per method: work size (MP), stroke canvas (MP), stroke length and width (reference px),
# blended underlayer (0..1), stroke overlap, second layer, saturation, white in the sticks,
# stroke-to-stroke colour variation, paper
_METHOD = {
    "basic": dict(
        mp=0.15,
        canvas=0.35,
        length=36.0,
        width=8.0,
        under=0.65,
        overlap=1.6,
        fine=False,
        sat=1.15,
        white=0.1,
        jitter=0.09,
        paper=PAPER_SAND,
    ),
    "advanced": dict(
        mp=0.3,
        canvas=1.5,
        length=30.0,
        width=6.0,
        under=0.6,
        overlap=1.6,
        fine=True,
        sat=1.25,
        white=0.08,
        jitter=0.12,
        paper=PAPER_SAND,
    ),
    "artistic": dict(
        mp=0.25,
        canvas=1.2,
        length=44.0,
        width=8.5,
        under=0.5,
        overlap=1.8,
        fine=True,
        sat=1.4,
        white=0.05,
        jitter=0.12,
        paper=PAPER_BLUE,
    ),
}


def render(rgb: np.ndarray, method: str, ctx: Ctx) -> np.ndarray:
    p = _METHOD[method]
    full = ops.size_of(rgb)
    shape = rgb.shape[:2]
    small = media.shrink(rgb, ops.detail_size(shape, p["mp"], ctx.detail))
    small = ops.normalize_colour(small, 0.55, 0.7)
    us = ops.unit(small.shape)
    colour = ops.bilateral(small, (3.0 - 2.0 * ctx.detail) * us, 30.0, passes=1 if method == "basic" else 2)
    chalk = _chalk_colour(colour.astype(F32) * F32(1 / 255), ctx, p)
    g = ops.gray(colour)
    tx, ty, coh = ops.structure_flow(g, 6.0 * us)
    tx, ty = ops.blend_flow(tx, ty, coh, 60.0)
    edge = ops.gradient_magnitude(cv2.GaussianBlur(g, (0, 0), 1.0 * us))
    edge *= F32(1.0 / max(float(np.percentile(edge[::2, ::2], 95)), 1e-3))
    ctx.report(0.2)

    cw, ch = ops.work_size(shape, p["canvas"])
    uc = ops.unit((ch, cw))
    paper = p["paper"]
    # the blended underlayer: chalk rubbed into the paper with a finger
    target = ops.resize(ops.to_u8(chalk), (cw, ch), smooth=True)
    canvas = np.empty((ch, cw, 4), np.uint8)
    canvas[..., :3] = cv2.GaussianBlur(target, (0, 0), 3.0 * uc)
    canvas[..., 3] = round(255 * p["under"] * (0.6 + 0.4 * ctx.strength))
    # artistic: an unfinished, loose border where the marks thin out and leave bare paper
    fade = _vignette((ch, cw), ctx) if method == "artistic" else None
    if fade is not None:
        canvas[..., 3] = ops.to_u8(fade * F32(canvas[0, 0, 3] / 255))
    rng = ctx.rng(71)
    scale = 1.0 - 0.45 * ctx.detail  # more detail: smaller marks
    length, width = p["length"] * scale * uc, max(1.5, p["width"] * scale * uc)
    fields = (chalk, tx, ty, edge, fade)
    _layer(canvas, fields, rng, length, width, p["overlap"], None, 0.0, aa=method != "basic", jitter=p["jitter"])
    if p["fine"]:
        # a finer layer where the broad strokes missed the picture (Hertzmann's refinement)
        err = cv2.absdiff(cv2.GaussianBlur(canvas[..., :3], (0, 0), 1.0 * uc), target)
        err = cv2.cvtColor(err, cv2.COLOR_RGB2GRAY)
        _layer(canvas, fields, rng, length * 0.55, max(1.2, width * 0.6), 1.0, err, 14.0, jitter=p["jitter"])
    del target
    ctx.report(0.55)

    # the strokes are soft-edged chalk: a bilinear resize is enough, the tooth adds the grain
    rgb_c = cv2.cvtColor(canvas, cv2.COLOR_RGBA2RGB)
    chalk8 = ops.resize(rgb_c, full)
    alpha8 = ops.resize(np.ascontiguousarray(canvas[..., 3]), full)
    del canvas
    grain8 = textures.paper_grain(shape, 1.1 * ctx.u, ctx.seed)
    if method != "basic":
        # a stroke over another one catches only on the peaks of the tooth: in the valleys the
        # colours below (here: the strokes around, blended) show through, so strokes break up
        soft8 = ops.resize(cv2.GaussianBlur(rgb_c, (0, 0), 1.2 * width), full)
        chalk8 = ops.mix_rgb(chalk8, soft8, cv2.LUT(grain8, ops.curve_lut(lambda v: ops.smoothstep(0.25, 0.6, v))))
        del soft8
    del rgb_c
    # chalk holds on the peaks of the tooth: cover rises smoothly with stroke pressure and
    # with the height of the grain (no hard threshold: an even grain, not specks). cover =
    # 0.8 pressure + tooth: mean ~0.85 under a full stroke, spread ~0.12 by the tooth. The
    # tooth's rare deepest pits are evened out first (a soft clip at ~1.2 std): an even
    # paper texture, not single pale flecks where the chalk missed
    a = ctx.lerp(0.8, 1.15)
    tooth8 = cv2.LUT(grain8, ops.curve_lut(lambda v: 0.5 + 0.17 * np.tanh((v - 0.5) / 0.17)))
    cover8 = cv2.addWeighted(alpha8, 0.8, tooth8, a, 13.0 - 128.0 * a)
    del tooth8
    del alpha8
    ctx.report(0.75)
    out = ops.mix_rgb(chalk8, _paper(grain8, paper), cover8)
    ctx.report(0.9)
    return out


def _chalk_colour(c: np.ndarray, ctx: Ctx, p: dict) -> np.ndarray:
    """Pastel sticks are pigment plus white chalk: lighter, a little desaturated, few darks."""
    lum = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)[..., None]
    c = lum + (c - lum) * F32(p["sat"])
    white = F32(p["white"] * ctx.lerp(1.4, 0.6))
    c = c * (F32(1.0) - white) + white
    # compress the darkest values: there is no true black stick in a soft-pastel box
    return ops.clip01(F32(0.07) + c * F32(0.93))


def _layer(
    canvas, fields, rng, length: float, width: float, overlap: float, err, err_min: float, aa: bool = True, jitter: float = 0.09
) -> None:
    """Draw one layer of strokes on the RGBA stroke canvas, in place.

    Stroke centres sit on a jittered grid (even coverage, no clumps); with ``err`` only the
    centres where the canvas still differs from the picture by more than ``err_min`` get one.
    The alpha channel is the stroke's pressure.
    """
    chalk, tx, ty, edge, fade = fields
    ch, cw = canvas.shape[:2]
    sh, sw = chalk.shape[:2]
    step = math.sqrt(length * width / overlap)
    ny, nx = max(1, round(ch / step)), max(1, round(cw / step))
    gy, gx = np.mgrid[0:ny, 0:nx].astype(F32)
    x = ((gx + rng.uniform(0.0, 1.0, gx.shape)) * F32(cw / nx)).ravel()
    y = ((gy + rng.uniform(0.0, 1.0, gy.shape)) * F32(ch / ny)).ravel()
    x = np.clip(x, 0, cw - 1)
    y = np.clip(y, 0, ch - 1)
    if err is not None:
        sel = err[y.astype(int), x.astype(int)] > err_min
        x, y = x[sel], y[sel]
    if fade is not None:  # whole strokes are left out towards the border, never faded
        sel = fade[y.astype(int), x.astype(int)] > rng.uniform(0.0, 1.0, len(x))
        x, y = x[sel], y[sel]
    n = len(x)
    if n == 0:
        return
    order = rng.permutation(n)
    x, y = x[order], y[order]
    # sample the small fields under each stroke centre
    ix = np.clip((x * (sw / cw)).astype(int), 0, sw - 1)
    iy = np.clip((y * (sh / ch)).astype(int), 0, sh - 1)
    col = chalk[iy, ix]
    # each stick is a little different: lightness varies from stroke to stroke, hue only a
    # little and in proportion to the colour (an offset would scatter coloured confetti over
    # the darks, where it outweighs the colour itself)
    col = col * (1.0 + rng.normal(0.0, jitter, (n, 1)) + rng.normal(0.0, jitter * 0.2, (n, 3)))
    col = np.clip(col, 0.0, 1.0)
    lum = col @ np.array([0.299, 0.587, 0.114])
    press = np.clip(0.76 + 0.24 * lum + rng.normal(0.0, 0.04, n), 0.6, 1.0)
    ang = rng.normal(0.0, 0.12, n)  # the hand is not a ruler
    dx0, dy0 = tx[iy, ix], ty[iy, ix]
    ca, sa = np.cos(ang), np.sin(ang)
    dx, dy = dx0 * ca - dy0 * sa, dx0 * sa + dy0 * ca
    half = 0.5 * length * rng.uniform(0.6, 1.15, n) * (1.0 - 0.6 * np.clip(edge[iy, ix], 0.0, 1.0))
    shift = 4  # sub-pixel end points
    f = float(1 << shift)
    x0 = np.round((x - dx * half) * f).astype(int)
    y0 = np.round((y - dy * half) * f).astype(int)
    x1 = np.round((x + dx * half) * f).astype(int)
    y1 = np.round((y + dy * half) * f).astype(int)
    w = np.maximum(1, np.round(width * rng.uniform(0.75, 1.2, n))).astype(int)
    rgba = np.concatenate([col * 255.0, press[:, None] * 255.0], axis=1).round().tolist()
    line = cv2.line
    kind = cv2.LINE_AA if aa else cv2.LINE_8  # LINE_8 is 3x cheaper; fine for soft, blended strokes
    for i in range(n):
        line(canvas, (int(x0[i]), int(y0[i])), (int(x1[i]), int(y1[i])), rgba[i], int(w[i]), kind, shift)


def _vignette(shape: tuple[int, int], ctx: Ctx, width: float = 0.05) -> np.ndarray:
    """Float (0..1) share of the marks kept near the border: 1 inside, falling to 0 over a
    ragged band of ``width`` (a share of the longer side)."""
    ch, cw = shape
    y = np.minimum(np.arange(ch, dtype=F32), np.arange(ch, dtype=F32)[::-1])[:, None]
    x = np.minimum(np.arange(cw, dtype=F32), np.arange(cw, dtype=F32)[::-1])[None, :]
    edge = np.minimum(x, y) * F32(1.0 / max(cw, ch))
    edge = edge + textures.fbm((ch, cw), max(cw, ch) / 12.0, ctx.seed, 73, octaves=2) * F32(width * 0.35)
    return ops.smoothstep(width * 0.4, width * 1.0, edge)


def _paper(grain8: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Toned paper with its tooth faintly lit (uint8 RGB, matte): one lookup per channel."""
    relief = textures.relief(grain8, 0.25)
    return cv2.merge([cv2.LUT(relief, ops.curve_lut(lambda v, c=c: c + (v - 0.5) * 0.8)) for c in paper])
