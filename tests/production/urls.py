"""A URLconf for tests that need a view of their own."""

import logging

from django.http import JsonResponse
from django.urls import include, path


def noisy(request, number):
    logging.getLogger("sketches.anything").warning("inside the view")
    return JsonResponse({"status": "ok"})


urlpatterns = [path("noisy/<int:number>", noisy), path("", include("sketchsite.urls"))]
