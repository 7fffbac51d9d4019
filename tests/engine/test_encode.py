"""encode(): formats, round trips, validation, and no metadata in the output."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from sketches.engine.decode import decode, probe
from sketches.engine.encode import EXTENSIONS, MIME_TYPES, canonical_format, encode
from sketches.engine.errors import InvalidParameter
from tests.engine.conftest import synthetic_rgb

FORMATS = ["png", "jpeg", "webp"]


def grey_sketch(height: int = 48, width: int = 64) -> np.ndarray:
    return synthetic_rgb(height, width).mean(axis=2).astype(np.uint8)


def jpeg_markers(data: bytes) -> list[int]:
    """Markers of the segments before the first scan."""
    pos, markers = 2, []
    while data[pos + 1] != 0xDA:
        markers.append(data[pos + 1])
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    return markers


def png_chunks(data: bytes) -> list[bytes]:
    pos, chunks = 8, []
    while pos < len(data):
        length = struct.unpack_from(">I", data, pos)[0]
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def webp_chunks(data: bytes) -> list[bytes]:
    pos, chunks = 12, []
    while pos < len(data):
        length = struct.unpack_from("<I", data, pos + 4)[0]
        chunks.append(data[pos : pos + 4])
        pos += 8 + length + (length & 1)
    return chunks


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("channels", [1, 3])
def test_round_trip(fmt, channels):
    image = synthetic_rgb() if channels == 3 else grey_sketch()
    data = encode(image, fmt)
    info = probe(data)
    assert (info.format, info.mime) == (fmt, MIME_TYPES[fmt])
    assert (info.width, info.height) == (64, 48)
    out = decode(data)
    expected = image if channels == 3 else np.dstack([image] * 3)
    assert out.shape == expected.shape
    if fmt == "png":
        np.testing.assert_array_equal(out, expected)
    else:
        assert np.abs(out.astype(int) - expected).mean() < 6


@pytest.mark.parametrize("channels", [1, 3])
def test_png_is_lossless_with_the_right_colour_type(channels):
    image = synthetic_rgb(31, 17, seed=3)
    if channels == 1:
        image = image[..., 1].copy()
    data = encode(image, "png")
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == ("L" if channels == 1 else "RGB")
        np.testing.assert_array_equal(np.asarray(im), image)


def test_grey_jpeg_stays_single_channel():
    with Image.open(io.BytesIO(encode(grey_sketch(), "jpeg"))) as im:
        assert im.mode == "L"


def test_non_contiguous_input():
    image = synthetic_rgb(40, 60)
    view = image[::2, ::3]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(decode(encode(view, "png")), view)


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_carries_no_metadata(fmt):
    data = encode(synthetic_rgb(), fmt)
    assert b"Exif" not in data
    assert b"<x:xmpmeta" not in data
    if fmt == "jpeg":
        assert jpeg_markers(data)[0] == 0xE0  # JFIF
        assert not {0xE1, 0xE2, 0xED, 0xFE} & set(jpeg_markers(data))  # EXIF/XMP, ICC, IPTC, comment
    elif fmt == "png":
        assert set(png_chunks(data)) == {b"IHDR", b"IDAT", b"IEND"}
    else:
        assert webp_chunks(data) in ([b"VP8 "], [b"VP8L"])


@pytest.mark.parametrize("fmt", ["PNG", "Jpeg", "JPG", "jpg", "WebP"])
def test_format_names_are_case_insensitive(fmt):
    data = encode(grey_sketch(), fmt)
    assert probe(data).format == canonical_format(fmt)


def test_canonical_format_and_tables():
    assert canonical_format("JPG") == "jpeg"
    assert set(MIME_TYPES) == set(EXTENSIONS) == set(FORMATS)
    assert MIME_TYPES == {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
    assert EXTENSIONS["jpeg"] == ".jpg"


@pytest.mark.parametrize("fmt", ["gif", "bmp", "tiff", "heic", "", "png ", None, 3])
def test_unknown_format_is_invalid(fmt):
    with pytest.raises(InvalidParameter):
        encode(grey_sketch(), fmt)


@pytest.mark.parametrize("quality", [0, 101, -5, 1.5, "90", True, None])
def test_bad_quality_is_invalid(quality):
    with pytest.raises(InvalidParameter):
        encode(grey_sketch(), "jpeg", quality)


def test_quality_bounds_and_effect():
    image = synthetic_rgb(96, 128)
    low, high = encode(image, "jpeg", 1), encode(image, "jpeg", 100)
    assert len(low) < len(high)
    assert len(encode(image, "webp", 10)) < len(encode(image, "webp", 95))
    assert encode(image, "png", 1) == encode(image, "png", 100)  # PNG ignores quality
    assert encode(image, "jpeg", np.int64(80))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4, 3), np.float32),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 1), np.uint8),
        np.zeros((4,), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        [[0, 0], [0, 0]],
    ],
    ids=["float", "rgba", "one-channel-3d", "1d", "empty", "list"],
)
def test_bad_arrays_are_invalid(image):
    with pytest.raises(InvalidParameter):
        encode(image, "png")


def test_webp_side_limit():
    wide = np.zeros((1, 16_384), np.uint8)
    with pytest.raises(InvalidParameter, match="16383"):
        encode(wide, "webp")
    assert probe(encode(wide, "png")).width == 16_384
    assert probe(encode(wide[:, :16_383], "webp")).width == 16_383


def test_invalid_parameter_is_a_value_error():
    assert issubclass(InvalidParameter, ValueError)
