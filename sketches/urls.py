from django.urls import path

from . import share_views, views
from .api import views as api_views

urlpatterns = [
    path("", views.home, name="home"),
    path("sketches/", views.gallery, name="gallery"),
    path("s/<str:token>", share_views.shared_sketch, name="share-page"),
    path("files/<path:key>", api_views.local_download, name="local-download"),
]
