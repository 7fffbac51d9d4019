"""Helpers of the watercolour and pastel looks (kept apart from ``ops`` so that changing
them never changes another style)."""

from __future__ import annotations

import cv2
import numpy as np

from .. import ops


def shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``ops.resize`` down to (width, height), 3-4x faster at 12 MP.

    OpenCV's area averaging has a fast path for integer factors only: reduce by the largest
    integer factor first (on a crop to a multiple of it, at most f - 1 pixels off the right
    and bottom edges, invisible after averaging to a working size), then by the rest.
    """
    h, w = img.shape[:2]
    f = min(w // max(size[0], 1), h // max(size[1], 1))
    if f >= 2:
        img = cv2.resize(img[: h - h % f, : w - w % f], (w // f, h // f), interpolation=cv2.INTER_AREA)
    return ops.resize(img, size)
