"""ASGI entry point: HTTP (pages, API, admin, static) and the ``/ws`` WebSocket."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sketchsite.settings")
django_asgi_app = get_asgi_application()  # sets Django up before the consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings

from accounts.ws_auth import WebSocketAuthMiddleware
from sketches.routing import websocket_urlpatterns
from sketchsite.middleware import CloseWebSocketsOnShutdown

if settings.USE_INPROCESS_WORKER:
    # The embedded default has no worker process: this web process also runs the reconciler,
    # which picks up sketches left unfinished when the previous process stopped.
    from sketches.periodic import start_in_background

    start_in_background()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # On SIGTERM open sockets get a close frame (4503, "server restarting") before daphne exits.
        "websocket": CloseWebSocketsOnShutdown(WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
