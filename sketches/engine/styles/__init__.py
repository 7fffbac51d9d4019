"""One module per style; each exposes ``render(rgb, method, ctx) -> uint8 image``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import acrylic, charcoal, ink, oil, pastel, pencil, watercolor
from .base import Ctx

Renderer = Callable[[np.ndarray, str, Ctx], np.ndarray]

RENDERERS: dict[str, Renderer] = {
    "pencil": pencil.render,
    "charcoal": charcoal.render,
    "watercolor": watercolor.render,
    "ink": ink.render,
    "pastel": pastel.render,
    "oil": oil.render,
    "acrylic": acrylic.render,
}

__all__ = ["RENDERERS", "Ctx", "Renderer"]
