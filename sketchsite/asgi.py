"""ASGI entry point: HTTP (pages, API, admin, static) and the ``/ws`` WebSocket."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sketchsite.settings")
django.setup(set_prefix=False)  # before the consumers are imported

from sketchsite.handlers import SyncChainASGIHandler

django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings

from accounts.ws_auth import WebSocketAuthMiddleware
from sketches.events import ServerLoop
from sketches.routing import websocket_urlpatterns
from sketchsite.ws_shutdown import CloseWebSocketsOnShutdown

if settings.USE_INPROCESS_WORKER:
    # The embedded default has no worker process: this web process also runs the reconciler,
    # which picks up sketches left unfinished when the previous process stopped.
    from sketches.periodic import start_in_background

    start_in_background()


def _settle_before_traffic() -> None:
    """Load now what the first requests would load, then take it out of the cyclic GC's sweeps.

    The modules, Django's and DRF's registries and boto3's S3 model live as long as the process
    (over 150,000 objects), yet every full collection walked them all while holding the GIL:
    pauses of 0.1-0.5 s under make load, straight into the p99. Frozen, a collection only walks
    what requests created since.
    """
    from django.urls import get_resolver

    from sketches.storage import get_storage

    get_resolver().url_patterns  # noqa: B018  (imports every view, serializer and renderer)
    storage = get_storage()
    if hasattr(storage, "warm_up"):
        storage.warm_up()
    gc.collect()
    gc.freeze()


_settle_before_traffic()

application = ServerLoop(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            # On SIGTERM open sockets get a close frame (4503, "server restarting") before daphne exits.
            "websocket": CloseWebSocketsOnShutdown(WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
        }
    )
)
