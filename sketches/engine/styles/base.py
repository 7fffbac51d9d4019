"""What every style receives besides the picture: parameters, scale and a progress hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ctx:
    strength: float  # 0..1: how far the look is pushed (darkness, stroke weight, texture)
    detail: float  # 0..1: how much fine structure survives
    seed: int
    u: float  # full-resolution pixels per reference pixel (see ops.unit)
    report: Callable[[float], None]  # style-local progress in [0, 1]

    def rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, salt])

    def lerp(self, a: float, b: float, t: float | None = None) -> float:
        """Interpolate a parameter by strength (or by ``t``)."""
        t = self.strength if t is None else t
        return a + (b - a) * t
