from django.urls import re_path

from .consumers import SketchConsumer

websocket_urlpatterns = [re_path(r"^ws/?$", SketchConsumer.as_asgi())]
