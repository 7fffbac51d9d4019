"""No look may invent texture from sensor noise: texture gain <= 1.0 for each of the 21.

The measure is ``bench/texture_gain.py``: a smooth colour gradient rendered clean and
with spatially correlated noise (std 3 levels); the mean excess of the noisy render's 16x16
block standard deviation over the clean one's, divided by 3. 1.0 passes the noise through,
more turns it into texture (mottled skies, spatter, stipple patches). Run here at 1200x800 to
stay fast; ``make bench`` reports it at 3000x2000.
"""

from __future__ import annotations

import itertools

import pytest

from bench import texture_gain
from sketches.engine.catalog import METHOD_IDS, STYLE_IDS

SIZE = (1200, 800)
MAX_GAIN = 1.0

LOOKS = [pytest.param(s, m, id=f"{s}/{m}") for s, m in itertools.product(STYLE_IDS, METHOD_IDS)]


@pytest.mark.parametrize(("style", "method"), LOOKS)
def test_texture_gain_at_most_one(style, method):
    gain = texture_gain.texture_gain(style, method, *SIZE)
    assert gain <= MAX_GAIN, f"{style}/{method} turns sensor noise into texture: gain {gain:.2f} > {MAX_GAIN}"


def test_the_measure_sees_noise_turned_into_texture():
    """The measure itself: a look that thresholds the noise scores far above 1."""
    import numpy as np

    clean, noisy = texture_gain.inputs(400, 300)
    assert noisy.shape == clean.shape and np.abs(noisy.astype(int) - clean.astype(int)).std() > 1.5

    def threshold(img):
        g = img.astype(np.float32).mean(axis=2)
        return np.where(g > np.median(g), 255, 0).astype(np.uint8)

    excess = np.maximum(0.0, texture_gain._block_std(threshold(noisy)) - texture_gain._block_std(threshold(clean)))
    assert excess.mean() / texture_gain.NOISE_STD > 1.0
