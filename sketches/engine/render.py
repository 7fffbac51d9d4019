"""``render``: validate the request, run one style, hand back an image of the same size."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import cv2
import numpy as np

from . import ops
from .catalog import METHOD_IDS, STYLE_IDS
from .errors import InvalidParameter
from .styles import RENDERERS, Ctx

Progress = Callable[[float, str], None]

# Filters need a few pixels of context; tinier inputs are padded and cropped back.
_MIN_SIDE = 16


def _choice(value: object, valid: tuple[str, ...], what: str) -> str:
    key = value.strip().lower() if isinstance(value, str) else None
    if key not in valid:
        raise InvalidParameter(f"Unknown {what} {value!r}; choose one of: {', '.join(valid)}.")
    return key


def _unit_float(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameter(f"{what} must be a number between 0 and 1.")
    v = float(value)
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise InvalidParameter(f"{what} must be between 0 and 1, got {value!r}.")
    return v


def _as_rgb(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InvalidParameter("image must be a uint8 numpy array (H x W x 3 RGB or H x W grey).")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2RGB)
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidParameter(f"image must be H x W x 3 RGB or H x W grey, got shape {image.shape}.")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InvalidParameter("image is empty.")
    return np.ascontiguousarray(image)


def render(
    image: np.ndarray,
    style: str,
    method: str,
    *,
    strength: float = 0.5,
    detail: float = 0.5,
    seed: int = 0,
    progress: Progress | None = None,
) -> np.ndarray:
    """Turn an RGB photo into a drawing. Returns uint8, H x W (grey) or H x W x 3 (RGB).

    Deterministic: the same input and parameters give the same bytes.
    """
    style_id = _choice(style, STYLE_IDS, "style")
    method_id = _choice(method, METHOD_IDS, "method")
    strength = _unit_float(strength, "strength")
    detail = _unit_float(detail, "detail")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**63:
        raise InvalidParameter("seed must be a non-negative integer.")
    rgb = _as_rgb(image)

    last = [0.0]

    def report(fraction: float) -> None:
        # style-local fraction -> overall, clamped and never going backwards
        f = min(max(float(fraction), last[0]), 1.0)
        last[0] = f
        if progress is not None:
            progress(f * 0.99, "render")

    if progress is not None:
        progress(0.0, "render")

    h, w = rgb.shape[:2]
    pad_y, pad_x = max(0, _MIN_SIDE - h), max(0, _MIN_SIDE - w)
    if pad_y or pad_x:
        rgb = cv2.copyMakeBorder(rgb, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)

    ctx = Ctx(strength=strength, detail=detail, seed=int(seed), u=ops.unit(rgb.shape), report=report)
    out = RENDERERS[style_id](rgb, method_id, ctx)
    out = np.ascontiguousarray(out[:h, :w])
    if out.dtype != np.uint8:  # pragma: no cover - a style bug, not a user error
        raise AssertionError(f"{style_id}/{method_id} returned {out.dtype}")

    if progress is not None:
        progress(1.0, "render")
    return out
