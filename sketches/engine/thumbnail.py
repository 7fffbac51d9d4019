"""Small previews of a result: the gallery shows these instead of the full-size file."""

import cv2
import numpy as np

from .errors import InvalidParameter


def thumbnail(image: np.ndarray, max_side: int = 480) -> np.ndarray:
    """Scale down (never up) so that the longer side is at most ``max_side``; same dtype and channels."""
    if max_side < 1:
        raise InvalidParameter("max_side must be at least 1.")
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA averages the pixels it drops: no moiré in fine hatching.
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
