from django.urls import path

from . import views
from .api import views as api_views

urlpatterns = [
    path("", views.home, name="home"),
    path("sketches/", views.gallery, name="gallery"),
    path("files/<path:key>", api_views.local_download, name="local-download"),
]
