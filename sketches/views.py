"""Pages: the landing page, the studio and the gallery. Small views; the JS talks to the API."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .catalog import styles_with_previews


def home(request):
    if not request.user.is_authenticated:
        return render(request, "sketches/landing.html", styles_with_previews(request))
    context = {
        **styles_with_previews(request),
        "max_file_size": settings.MAX_FILE_SIZE,
        "allowed_types": settings.ALLOWED_FILE_TYPES,
    }
    return render(request, "sketches/studio.html", context)


@login_required
def gallery(request):
    return render(request, "sketches/gallery.html", styles_with_previews(request))
