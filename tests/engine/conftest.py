"""Shared fixtures for engine tests: real photos and small synthetic images.

Nothing here imports Django; the engine tests run with or without pytest-django.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

# Read-only test photographs in the repository (see tests/photos/LICENSES.md).
PHOTOS_DIR = Path(__file__).resolve().parents[2] / "tests" / "photos"


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    return PHOTOS_DIR


@pytest.fixture(scope="session")
def load_photo(photos_dir):
    """``load_photo("forest-path.jpg")`` -> RGB uint8 array, decoded by OpenCV alone."""

    def load(name: str) -> np.ndarray:
        path = photos_dir / name
        return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    return load


def synthetic_rgb(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """Deterministic RGB uint8 image: smooth gradients, a few hard edges, mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 255 * x / max(width - 1, 1)
    g = 255 * y / max(height - 1, 1)
    b = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    image = np.dstack([r, g, b])
    image[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3] = (20, 20, 20)
    image += rng.normal(0, 4, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture
def make_rgb():
    """Factory: ``make_rgb(height, width, seed=0)`` -> synthetic RGB uint8 array."""
    return synthetic_rgb


@pytest.fixture
def rgb_image() -> np.ndarray:
    return synthetic_rgb()


def image_bytes(image: Image.Image | np.ndarray, fmt: str, **save_args) -> bytes:
    """Save a Pillow image (or an array) with Pillow and return the file's bytes."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, fmt, **save_args)
    return out.getvalue()


@pytest.fixture
def to_bytes():
    """Factory: ``to_bytes(image_or_array, "PNG", **pillow_save_args)`` -> bytes."""
    return image_bytes
