"""The user-facing menu: which styles and methods exist, in display order, with one-line blurbs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    description: str


STYLES: tuple[Entry, ...] = (
    Entry("pencil", "Pencil", "Graphite on paper: soft shading, clean outlines and hatching."),
    Entry("charcoal", "Charcoal", "Dark, smudged charcoal with deep blacks on rough paper."),
    Entry("watercolor", "Watercolor", "Transparent colour washes with soft bleeding and darker edges."),
    Entry("ink", "Ink", "Pen and ink: crisp lines, solid blacks, hatching or stippling."),
    Entry("pastel", "Pastel", "Soft chalky colour strokes on toned paper."),
    Entry("oil", "Oil", "Thick oil paint brush strokes with raised, lit paint."),
    Entry("acrylic", "Acrylic", "Flat, bold colour areas with crisp edges and brush texture."),
)

METHODS: tuple[Entry, ...] = (
    Entry("basic", "Basic", "Fast edge detection and simple tone."),
    Entry("advanced", "Advanced", "Edge-preserving smoothing, texture, high quality."),
    Entry("artistic", "Artistic", "Stronger detail, sharpening, expressive strokes."),
)

STYLE_IDS: tuple[str, ...] = tuple(e.id for e in STYLES)
METHOD_IDS: tuple[str, ...] = tuple(e.id for e in METHODS)
