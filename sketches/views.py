"""Pages: the landing page, the studio and the gallery. Small views; the JS talks to the API."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .engine.formats import IMAGE_TYPES
from .models import Sketch
from .style_menu import styles_with_previews


def allowed_label(types) -> str:
    names = list(dict.fromkeys(IMAGE_TYPES[t].label if t in IMAGE_TYPES else t.split("/")[-1].upper() for t in types))
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def home(request):
    if not request.user.is_authenticated:
        return render(request, "sketches/landing.html", styles_with_previews(request))
    context = {
        **styles_with_previews(request),
        "max_file_size": settings.MAX_FILE_SIZE,
        "allowed_types": settings.ALLOWED_FILE_TYPES,
        "allowed_label": allowed_label(settings.ALLOWED_FILE_TYPES),
    }
    return render(request, "sketches/studio.html", context)


@login_required
def gallery(request):
    context = {
        **styles_with_previews(request),
        "statuses": Sketch.Status.choices,
        "page_size": 12,
    }
    return render(request, "sketches/gallery.html", context)
