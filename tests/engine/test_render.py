"""render(): every look on synthetic and real pictures, parameters, validation, determinism.

Pure pytest, no Django. Thresholds are loose on purpose: they catch a blank, saturated,
unchanged or duplicated look, not a change of taste.
"""

from __future__ import annotations

import itertools
import threading

import cv2
import numpy as np
import pytest

from sketches.engine import InvalidParameter, render
from sketches.engine.catalog import METHOD_IDS, METHODS, STYLE_IDS, STYLES
from sketches.engine.textures import clear_cache

PAIRS = list(itertools.product(STYLE_IDS, METHOD_IDS))
DRAWING_STYLES = ("pencil", "charcoal", "ink")  # monochrome on white-ish paper


def as_rgb(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in RGB (grey outputs are expanded first)."""
    return float(np.mean(np.abs(as_rgb(a).astype(np.int16) - as_rgb(b).astype(np.int16))))


def scene(height: int = 120, width: int = 160) -> np.ndarray:
    """Gradients, a disc, a dark bar, fine stripes and colour: something to draw."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.dstack([200 * x / width + 30, 160 * y / height + 50, 180 - 120 * x / width])
    cy, cx, r = height * 0.45, width * 0.35, min(height, width) * 0.25
    disc = (y - cy) ** 2 + (x - cx) ** 2 < r**2
    img[disc] = (230, 200, 60)
    img[int(height * 0.7) : int(height * 0.8), int(width * 0.5) :] = (25, 25, 40)
    stripes = (x > width * 0.7) & (y < height * 0.4) & ((x // 3) % 2 == 0)
    img[stripes] = (250, 250, 250)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photo(load_photo) -> np.ndarray:
    img = load_photo("astronaut.png")
    return cv2.resize(img, (320, 320), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def landscape(load_photo) -> np.ndarray:
    img = load_photo("evening-glow.jpg")
    return cv2.resize(img, (320, 200), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def photo_looks(photo) -> dict[tuple[str, str], np.ndarray]:
    return {(s, m): render(photo, s, m) for s, m in PAIRS}


def assert_drawing(out: np.ndarray, shape: tuple[int, int]) -> None:
    assert out.dtype == np.uint8
    assert out.shape[:2] == shape
    assert out.ndim == 2 or (out.ndim == 3 and out.shape[2] == 3)
    assert out.flags["C_CONTIGUOUS"]
    assert 25.0 < float(out.mean()) < 245.0, "blank or saturated"
    assert float(out.std()) > 12.0, "no drawing"


# --- catalog ------------------------------------------------------------------------------


def test_catalog_lists_the_seven_styles_and_three_methods_in_order():
    assert STYLE_IDS == ("pencil", "charcoal", "watercolor", "ink", "pastel", "oil", "acrylic")
    assert METHOD_IDS == ("basic", "advanced", "artistic")
    for entry in (*STYLES, *METHODS):
        assert entry.name and entry.description
        assert "\n" not in entry.description and len(entry.description) < 100


# --- every look -----------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_each_look_on_a_synthetic_scene(style, method):
    img = scene()
    out = render(img, style, method)
    assert_drawing(out, img.shape[:2])


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_each_look_on_a_portrait(style, method, photo_looks):
    assert_drawing(photo_looks[(style, method)], (320, 320))


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_each_look_on_a_landscape(style, method, landscape):
    assert_drawing(render(landscape, style, method), landscape.shape[:2])


def test_looks_are_visibly_different_from_each_other(photo_looks):
    worst = min(
        ((mad(photo_looks[a], photo_looks[b]), a, b) for a, b in itertools.combinations(PAIRS, 2)),
    )
    assert worst[0] > 6.0, f"{worst[1]} and {worst[2]} look alike (MAD {worst[0]:.1f})"


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_output_is_not_the_photo(style, method, photo, photo_looks):
    assert mad(photo_looks[(style, method)], photo) > 6.0


# --- awkward inputs -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 12, 128, 243, 255])
@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_flat_inputs_give_a_sane_page(style, method, value):
    img = np.full((60, 80, 3), value, np.uint8)
    out = render(img, style, method)
    assert out.shape[:2] == (60, 80) and out.dtype == np.uint8
    if value >= 243 and style in DRAWING_STYLES:
        assert out.mean() > 200, "a white page must stay paper"


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_dark_and_bright_photos_still_give_a_drawing(style, method, photo):
    dark = (photo // 6).astype(np.uint8)  # badly under-exposed
    bright = (255 - (255 - photo) // 6).astype(np.uint8)  # badly over-exposed
    for img in (dark, bright):
        out = render(img, style, method)
        assert out.shape[:2] == img.shape[:2]
        assert float(out.std()) > 8.0


def test_grey_inputs_are_accepted(photo):
    g = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    a = render(g, "pencil", "basic")
    b = render(g[:, :, None], "pencil", "basic")
    c = render(cv2.cvtColor(g, cv2.COLOR_GRAY2RGB), "pencil", "basic")
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_input_is_not_modified(photo):
    before = photo.copy()
    for style in STYLE_IDS:
        render(photo, style, "advanced")
    assert np.array_equal(before, photo)


def test_non_contiguous_input(photo):
    view = photo[::2, ::3]
    assert render(view, "oil", "basic").shape[:2] == view.shape[:2]


# --- parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_strength_changes_the_output(style, method, photo):
    lo = render(photo, style, method, strength=0.05)
    hi = render(photo, style, method, strength=0.95)
    assert mad(lo, hi) > 3.0


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_detail_changes_the_output(style, method, photo):
    lo = render(photo, style, method, detail=0.05)
    hi = render(photo, style, method, detail=0.95)
    assert mad(lo, hi) > 2.0


def test_style_and_method_ids_are_case_insensitive(photo):
    a = render(photo, "Pencil", " BASIC ")
    b = render(photo, "pencil", "basic")
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"style": "crayon"},
        {"method": "fancy"},
        {"style": ""},
        {"style": None},
        {"method": 3},
        {"strength": -0.01},
        {"strength": 1.01},
        {"strength": float("nan")},
        {"strength": float("inf")},
        {"strength": "0.5"},
        {"strength": True},
        {"detail": -1},
        {"detail": 2},
        {"detail": None},
        {"seed": -1},
        {"seed": 1.5},
        {"seed": "7"},
    ],
)
def test_invalid_parameters_are_refused(kwargs, rgb_image):
    args = {"style": "pencil", "method": "basic", **kwargs}
    with pytest.raises(InvalidParameter):
        render(rgb_image, args.pop("style"), args.pop("method"), **args)


def test_unknown_style_error_lists_the_valid_ones(rgb_image):
    with pytest.raises(InvalidParameter) as err:
        render(rgb_image, "crayon", "basic")
    for style in STYLE_IDS:
        assert style in str(err.value)
    with pytest.raises(InvalidParameter) as err:
        render(rgb_image, "pencil", "quick")
    for method in METHOD_IDS:
        assert method in str(err.value)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((10, 10, 3), np.float32),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 2), np.uint8),
        np.zeros((0, 10, 3), np.uint8),
        np.zeros((10,), np.uint8),
        np.zeros((2, 2, 2, 3), np.uint8),
        [[0, 0], [0, 0]],
        None,
    ],
    ids=["float", "rgba", "2ch", "empty", "1d", "4d", "list", "none"],
)
def test_invalid_images_are_refused(image):
    with pytest.raises(InvalidParameter):
        render(image, "pencil", "basic")


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 9, 3), (9, 1, 3), (2, 500, 3), (3, 3)])
def test_tiny_images_keep_their_shape(shape):
    img = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    for style, method in PAIRS:
        out = render(img, style, method)
        assert out.shape[:2] == shape[:2]


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_same_input_same_bytes(style, method, photo, photo_looks):
    clear_cache()  # a cold texture cache must give the same result as a warm one
    again = render(photo, style, method)
    assert again.tobytes() == photo_looks[(style, method)].tobytes()


def test_seed_changes_textured_looks(photo):
    for style in ("pencil", "charcoal", "watercolor", "pastel", "oil"):
        a = render(photo, style, "advanced", seed=1)
        b = render(photo, style, "advanced", seed=2)
        assert a.tobytes() != b.tobytes(), style


def test_opencv_thread_count_does_not_change_the_result(photo):
    before = cv2.getNumThreads()
    try:
        results = []
        for n in (1, 2, 4):
            cv2.setNumThreads(n)
            clear_cache()
            results.append([render(photo, s, m).tobytes() for s, m in PAIRS])
    finally:
        cv2.setNumThreads(before)
    assert results[0] == results[1] == results[2]


def test_concurrent_renders_match_serial_ones(photo, photo_looks):
    clear_cache()
    out: dict[tuple[str, str], bytes] = {}

    def work(pairs):
        for s, m in pairs:
            out[(s, m)] = render(photo, s, m).tobytes()

    threads = [threading.Thread(target=work, args=(PAIRS[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for pair in PAIRS:
        assert out[pair] == photo_looks[pair].tobytes(), pair


# --- progress -------------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "method"), PAIRS)
def test_progress_is_reported_from_0_to_1(style, method, rgb_image):
    calls: list[tuple[float, str]] = []
    render(rgb_image, style, method, progress=lambda f, stage: calls.append((f, stage)))
    fractions = [f for f, _ in calls]
    assert len(calls) >= 4
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)
    assert {stage for _, stage in calls} == {"render"}


def test_progress_exceptions_propagate(rgb_image):
    class Cancelled(Exception):
        pass

    def cancel(fraction, stage):
        if fraction > 0.3:
            raise Cancelled

    with pytest.raises(Cancelled):
        render(rgb_image, "oil", "advanced", progress=cancel)
