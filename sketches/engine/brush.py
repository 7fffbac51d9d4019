"""Stroke-based painting (after Hertzmann 1998, "Painterly rendering with curved brush strokes").

Strokes are curved polylines that start on a jittered grid and follow the image's flow field
until the colour under the brush departs from the stroke's own colour, so they stop at edges.
Each stroke is drawn once into a 4-channel canvas: its colour (RGB) and its paint thickness
(channel 3), so that the relief later lit by the caller has one raised ridge per stroke, with
the edges of later strokes lying on top of earlier ones.

Paths are traced for all strokes at once with NumPy; only the drawing is a loop (one
antialiased ``cv2.polylines`` call per stroke), so a layer of a few thousand strokes costs a few
tens of milliseconds. Everything is seeded: the same input gives the same strokes.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

F32 = np.float32
_SHIFT = 4  # sub-pixel bits for the polyline coordinates (antialiased, smooth curves)


def underpaint(ref: np.ndarray, thickness: int = 0) -> np.ndarray:
    """A 4-channel canvas (RGB + thickness) primed with the reference colour: gaps between
    strokes show paint, not bare canvas."""
    h, w = ref.shape[:2]
    canvas = np.empty((h, w, 4), np.uint8)
    canvas[..., :3] = ref
    canvas[..., 3] = thickness
    return canvas


def layer(
    canvas: np.ndarray,
    ref: np.ndarray,
    tx: np.ndarray,
    ty: np.ndarray,
    rng: np.random.Generator,
    *,
    radius: float,
    length: float,
    coverage: float = 2.0,
    stop: float = 40.0,
    threshold: float | None = None,
    shade: float = 0.0,
    hue: float = 0.0,
    steps: int = 5,
    min_span: float = 1.0,
    lights_last: bool = False,
) -> int:
    """Paint one layer of strokes of ``radius`` px and up to ``length`` px onto ``canvas``
    (h x w x 4 uint8, modified in place) and return how many were drawn.

    ``ref`` (h x w x 3 uint8) is the picture being painted, ``tx, ty`` the unit stroke
    direction per pixel. A stroke stops where ``ref`` differs from its colour by more than
    ``stop`` (sum of RGB levels). With ``threshold``, only places where the canvas still
    differs from ``ref`` by more than that (mean RGB level over a brush-sized area) get a
    stroke: finer brushes refine detail only where the coarse layer missed it. ``shade`` and
    ``hue`` vary each stroke's lightness and warmth (fractions), as mixed paint does. Strokes
    shorter than ``min_span`` radii end to end are left out (the layer below shows). With
    ``lights_last`` strokes are painted from dark to light instead of in random order.
    """
    h, w = ref.shape[:2]
    radius = max(radius, 0.75)
    cell = max(1.0, math.sqrt(2.0 * radius * max(length, 2.0 * radius) / coverage))
    ny, nx = max(1, round(h / cell)), max(1, round(w / cell))
    gy, gx = np.mgrid[0:ny, 0:nx].astype(F32)
    cx = ((gx + F32(0.5)) * F32(w / nx) + rng.uniform(-0.5, 0.5, gx.shape).astype(F32) * F32(w / nx)).ravel()
    cy = ((gy + F32(0.5)) * F32(h / ny) + rng.uniform(-0.5, 0.5, gy.shape).astype(F32) * F32(h / ny)).ravel()
    np.clip(cx, 0, w - 1, out=cx)
    np.clip(cy, 0, h - 1, out=cy)
    ix, iy = cx.astype(np.intp), cy.astype(np.intp)
    # per-stroke random draws are taken for every grid point, so a refinement mask never
    # shifts the random stream (the same input gives the same strokes wherever they land)
    order = rng.permutation(cx.size)
    tone = rng.standard_normal(cx.size).astype(F32)
    warm = rng.standard_normal(cx.size).astype(F32)
    thick = rng.uniform(0.6, 1.0, cx.size).astype(F32)
    keep = np.ones(cx.size, bool)
    if threshold is not None:
        k = max(1, round(radius))
        diff = cv2.absdiff(canvas[..., :3], ref)
        err = cv2.blur(cv2.cvtColor(diff, cv2.COLOR_RGB2GRAY), (2 * k + 1, 2 * k + 1))
        keep = err[iy, ix] > threshold
    sel = order[keep[order]]
    if sel.size == 0:
        return 0
    # the brush picks up the mean colour under its footprint: a line thinner than the brush
    # gives a muted stroke, not a dash of the line's full darkness
    under = cv2.GaussianBlur(ref, (0, 0), 0.5 * radius)
    if lights_last:
        # touches go on dark to light, as a painter puts highlights on last: a thin light
        # edge is one unbroken line instead of being cut into beads by darker neighbours
        lum = cv2.cvtColor(under, cv2.COLOR_RGB2GRAY)[iy[sel], ix[sel]]
        sel = sel[np.argsort(lum, kind="stable")]
    cx, cy, ix, iy = cx[sel], cy[sel], ix[sel], iy[sel]
    colour = under[iy, ix].astype(F32)
    if shade:
        colour *= (F32(1.0) + tone[sel] * F32(shade))[:, None]
    if hue:
        t = warm[sel] * F32(hue * 255.0)
        colour[:, 0] += t
        colour[:, 2] -= t
    colour = np.clip(colour, 0, 255)
    # the stroke goes on while the paint under the whole brush still matches its own
    ref_f = under.astype(np.int16)
    target = ref_f[iy, ix]
    dx0, dy0 = tx[iy, ix], ty[iy, ix]
    step = F32(0.5 * length / steps)
    paths = [np.stack([cx, cy], axis=1)]
    for sign in (1.0, -1.0):
        px, py = cx.copy(), cy.copy()
        dx, dy = dx0 * F32(sign), dy0 * F32(sign)
        alive = np.ones(cx.size, bool)
        side = []
        for _ in range(steps):
            jx = np.clip(px, 0, w - 1).astype(np.intp)
            jy = np.clip(py, 0, h - 1).astype(np.intp)
            nx_, ny_ = tx[jy, jx], ty[jy, jx]
            # the tangent field has no sign: keep going the way the stroke already goes
            flip = nx_ * dx + ny_ * dy < 0
            nx_ = np.where(flip, -nx_, nx_)
            ny_ = np.where(flip, -ny_, ny_)
            qx, qy = px + step * nx_, py + step * ny_
            inside = (qx >= 0) & (qx <= w - 1) & (qy >= 0) & (qy <= h - 1)
            kx = np.clip(qx, 0, w - 1).astype(np.intp)
            ky = np.clip(qy, 0, h - 1).astype(np.intp)
            near = np.abs(ref_f[ky, kx] - target).sum(axis=1) <= stop
            alive &= inside & near
            px = np.where(alive, qx, px)
            py = np.where(alive, qy, py)
            dx = np.where(alive, nx_, dx)
            dy = np.where(alive, ny_, dy)
            side.append(np.stack([px, py], axis=1))
        if sign > 0:
            paths = paths + side
        else:
            paths = side[::-1] + paths
    path = np.stack(paths, axis=1)  # (n, points, 2)
    # a stroke stopped at once would be a round dot: a brush leaves marks, not dots
    span = np.hypot(*(path[:, -1] - path[:, 0]).T)
    keep = span >= F32(min_span * radius)
    path, colour, thick = path[keep], colour[keep], thick[sel][keep]
    pts = np.round(path * F32(1 << _SHIFT)).astype(np.int32)
    width = max(1, round(2.0 * radius))
    col = np.concatenate([colour, (thick * F32(255.0))[:, None]], axis=1).round().astype(np.int32).tolist()
    polylines = cv2.polylines
    aa = cv2.LINE_AA
    for i in range(pts.shape[0]):
        polylines(canvas, [pts[i]], False, col[i], width, aa, _SHIFT)
    return int(pts.shape[0])
