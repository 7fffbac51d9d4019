"""Django's ASGI handler, entering each request's middleware and view in a single thread hop.

Under ASGI Django builds an async middleware chain around an async core. Our middleware and
views are all synchronous, so a request bounced between the event loop and its thread: once into
the chain, once back out to the async core, once in again for the view, and once more for every
hook of each middleware that runs in async mode (``MiddlewareMixin`` wraps each hook in
``sync_to_async``). Each bounce costs a queue hand-off and a wake-up, and under load a wait for
the GIL. Loading the chain in sync mode (as under WSGI) and answering each request with the
synchronous ``get_response`` in one ``sync_to_async`` cuts the request to one round trip
(bench/request_cost.py has the figures).

Requests still run in their own thread (``ThreadSensitiveContext`` in ``ASGIHandler.__call__``),
so a slow view holds up nobody else. An async view would be refused here with Django's own
"returned an unawaited coroutine" error; this project has none.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
