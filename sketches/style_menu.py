"""The styles and methods as the API and pages show them, with a preview image per style."""

from django.templatetags.static import static

from .engine.catalog import METHODS, STYLES


def _entries(items):
    return [{"id": item.id, "name": item.name, "description": item.description} for item in items]


def preview_path(style_id: str) -> str:
    try:
        return static(f"previews/{style_id}.jpg")
    except ValueError:  # the manifest lacks it (collectstatic not run after a new style): no preview
        return ""


def styles_with_previews(request=None) -> dict:
    styles = []
    for style in _entries(STYLES):
        url = preview_path(style["id"])
        style["preview_url"] = request.build_absolute_uri(url) if request is not None and url else url
        styles.append(style)
    return {"styles": styles, "methods": _entries(METHODS)}
