"""Property tests: any allowed image decodes to the right shape; damaged bytes fail typed."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from sketches.engine.decode import decode, probe
from sketches.engine.errors import ImageError
from tests.engine.conftest import image_bytes, synthetic_rgb

try:
    import pillow_heif

    HEIC_WRITABLE = bool(pillow_heif.libheif_info().get("HEIF"))
except ImportError:  # pragma: no cover - pillow_heif is a dependency
    HEIC_WRITABLE = False

# database=None: no .hypothesis/ directory in the repository.
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Pillow modes each writer accepts as they are (so the file really is in that mode).
MODES = {
    "PNG": ["RGB", "L", "RGBA", "LA", "P", "1", "I;16"],
    "JPEG": ["RGB", "L", "CMYK"],
    "GIF": ["RGB", "L", "P", "1"],
    "WEBP": ["RGB", "RGBA"],
    "WEBP_LOSSLESS": ["RGB", "RGBA"],
}
if HEIC_WRITABLE:
    MODES["HEIC"] = ["RGB", "RGBA"]

SIZES = st.one_of(
    st.tuples(st.integers(1, 48), st.integers(1, 48)),
    st.tuples(st.just(1), st.integers(1, 1500)),  # 1xN
    st.tuples(st.integers(1, 1500), st.just(1)),  # Nx1
    st.tuples(st.integers(1, 3), st.integers(500, 3000)),  # extreme aspect ratios
    st.tuples(st.integers(500, 3000), st.integers(1, 3)),
)


def make_image(mode: str, height: int, width: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    rgba = Image.fromarray(rng.integers(0, 256, (height, width, 4), dtype=np.uint8), "RGBA")
    if mode == "P":
        return rgba.convert("RGB").convert("P")
    return rgba.convert(mode)


def save(image: Image.Image, fmt: str) -> bytes:
    if fmt == "HEIC":
        out = io.BytesIO()
        pillow_heif.from_pillow(image).save(out, quality=80)
        return out.getvalue()
    if fmt == "WEBP_LOSSLESS":
        return image_bytes(image, "WEBP", lossless=True)
    return image_bytes(image, fmt)


@st.composite
def encoded_images(draw):
    fmt = draw(st.sampled_from(sorted(MODES)))
    mode = draw(st.sampled_from(MODES[fmt]))
    height, width = draw(SIZES)
    image = make_image(mode, height, width, draw(st.integers(0, 2**32 - 1)))
    return fmt, image, save(image, fmt)


@PROPERTY_SETTINGS
@given(encoded_images())
def test_allowed_images_decode_to_rgb_of_the_right_shape(case):
    fmt, image, data = case
    width, height = image.size
    info = probe(data)
    assert (info.width, info.height) == (width, height)
    out = decode(data)
    assert out.shape == (height, width, 3)
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous
    if fmt in ("PNG", "WEBP_LOSSLESS") and image.mode in ("RGB", "L"):
        np.testing.assert_array_equal(out, np.asarray(image.convert("RGB")))


def _seed_files() -> dict[str, bytes]:
    image = Image.fromarray(synthetic_rgb(16, 24, seed=5))
    seeds = {
        "jpeg": image_bytes(image, "JPEG", quality=85),
        "jpeg_progressive": image_bytes(image, "JPEG", progressive=True),
        "png": image_bytes(image, "PNG"),
        "png_palette": image_bytes(image.convert("P"), "PNG", transparency=0),
        "gif": image_bytes(image, "GIF"),
        "webp": image_bytes(image, "WEBP", quality=80),
        "webp_lossless": image_bytes(image, "WEBP", lossless=True),
        "webp_alpha": image_bytes(image.convert("RGBA"), "WEBP", quality=80),
    }
    if HEIC_WRITABLE:
        seeds["heic"] = save(image, "HEIC")
    return seeds


SEEDS = _seed_files()


@st.composite
def damaged_files(draw):
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    edits = st.tuples(
        st.sampled_from(["set", "xor", "insert", "delete"]),
        st.one_of(st.integers(0, 64), st.integers(0, len(data))),  # headers are up front
        st.integers(0, 255),
    )
    for op, position, value in draw(st.lists(edits, max_size=6)):
        position = min(position, len(data) - 1)
        if op == "set":
            data[position] = value
        elif op == "xor":
            data[position] ^= 1 << (value % 8)
        elif op == "insert":
            data[position:position] = bytes([value]) * (value % 5 + 1)
        elif len(data) > 1:
            del data[position : position + value % 5 + 1]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@PROPERTY_SETTINGS
@given(damaged_files())
def test_damaged_files_decode_or_fail_with_an_image_error(data):
    try:
        info = probe(data)
    except ImageError:
        info = None
    try:
        out = decode(data)
    except ImageError:
        return
    assert info is not None
    assert out.dtype == np.uint8
    assert out.ndim == 3
    assert out.shape[2] == 3
    assert out.flags.c_contiguous
    assert out.shape[:2] in ((info.height, info.width), (info.width, info.height))


@PROPERTY_SETTINGS
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_escape_as_untyped_errors(data):
    with pytest.raises(ImageError):
        decode(data)
