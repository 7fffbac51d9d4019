"""daphne's HTTP/1.1 server, refusing a request body bigger than its route takes before reading it.

Twisted reads a request's whole body before daphne hands it on, and by default parses form and
multipart bodies in the event loop first: one big POST froze every other request and took
gigabytes. Here Twisted's form parsing is off (Django parses what a view reads, in a thread,
within its own limits) and each request gets the limit of its path
(``sketchsite.body_limits``) from its request line: a declared ``Content-Length`` over it is
answered 413 before any of the body is read, a chunked body is cut off as soon as it passes it.

After a 413 the connection reads and drops up to ``LINGER_BYTES`` more of the body (for at
most ``LINGER_SECONDS``), then is dropped: a client a little over the limit that sends its
whole body before it reads (most do) gets the 413 cleanly, and a flood costs no more than that
per connection. (A client cut off still reads the 413 that arrived before the reset, on Linux.)
"""

import asyncio
import json
import logging
from urllib.parse import unquote

from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from twisted.internet import defer
from twisted.internet.interfaces import ITCPTransport
from twisted.web import http

from sketchsite import server_shutdown
from sketchsite.body_limits import body_limit

logger = logging.getLogger(__name__)

LINGER_SECONDS = 10
LINGER_BYTES = 1 * 1024 * 1024


def request_line_limit(line: bytes) -> int:
    """The body limit for a request line such as ``POST /api/upload/local?x=1 HTTP/1.1``."""
    parts = line.split(b" ")
    target = parts[1].split(b"?", 1)[0] if len(parts) == 3 else b""
    try:
        path = unquote(target.decode("ascii"))  # as daphne gives it to Django
    except UnicodeDecodeError:
        path = ""  # daphne answers 400 to such a path; nothing of the body is needed
    return body_limit(path or "/")


def too_large_response(limit: int) -> bytes:
    """A whole HTTP/1.1 413 answer in the API's error shape, closing the connection."""
    body = json.dumps(
        {"detail": f"The request body is too large: this address takes at most {limit} bytes.", "code": "request_too_large"}
    ).encode()
    head = (
        b"HTTP/1.1 413 Content Too Large\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\n"
        b"X-Content-Type-Options: nosniff\r\n"
        b"Connection: close\r\n\r\n" % len(body)
    )
    return head + body


class BoundedRequest(WebRequest):
    """daphne's request without Twisted's form parsing, and with a body limit set by the channel."""

    limit = 0  # until the channel has read the request line, no body is welcome

    def __init__(self, *args, **kwargs):
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)
        self.received = 0
        self.refused = False
        self.dropped = 0
        self.linger = None

    def gotLength(self, length):
        if length is not None and length > self.limit:
            self.refuse(f"Content-Length {length}")
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.refused:
            self.dropped += len(data)
            if self.dropped > LINGER_BYTES:
                self.channel.transport.abortConnection()
            return
        self.received += len(data)
        if self.received > self.limit:
            self.refuse(f"a chunked body past {self.limit} bytes")
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self.refused:
            self.channel.transport.loseConnection()  # the client sent it all: the answer is out
            return
        super().requestReceived(command, path, version)

    def refuse(self, what: str) -> None:
        """Answer 413 now, keep dropping the body for a while, then close."""
        self.refused = True
        # allHeadersReceived comes next and would otherwise invite the body with "100 Continue".
        self.requestHeaders.removeHeader(b"Expect")
        transport = self.channel.transport
        logger.warning("413: %s for a route that takes %d bytes, from %s", what, self.limit, getattr(self.client, "host", "?"))
        transport.write(too_large_response(self.limit))
        if ITCPTransport.providedBy(transport):
            transport.loseWriteConnection()  # the answer is complete; reading goes on
        else:
            transport.loseConnection()
        self.linger = self.channel.callLater(LINGER_SECONDS, transport.abortConnection)

    def connectionLost(self, reason):
        if self.linger is not None and self.linger.active():
            self.linger.cancel()
        super().connectionLost(reason)


class BoundedHTTPChannel(http.HTTPChannel):
    """An HTTP/1.1 connection that tells each request its body limit as soon as its first line is in."""

    def lineReceived(self, line):
        pending = len(self.requests)
        super().lineReceived(line)
        if len(self.requests) > pending:  # that was a request line: a request was just created for it
            self.requests[-1].limit = request_line_limit(line)


class BoundedHTTPFactory(HTTPFactory):
    """daphne's factory with the bounded channel and request. HTTP/1.1 only: Twisted's HTTP/2
    streams would take bodies past these limits, and HTTP/2 needs TLS, which the proxy ends."""

    protocol = BoundedHTTPChannel

    def buildProtocol(self, addr):
        channel = super().buildProtocol(addr)
        channel.requestFactory = BoundedRequest
        return channel

    def acceptableProtocols(self):
        return [b"http/1.1"]


class BoundedServer(Server):
    """daphne's server on ``BoundedHTTPFactory``, running ``sketchsite.server_shutdown``'s hooks when it stops."""

    def kill_all_applications(self):
        # daphne's 'before shutdown' step: the hooks run while the sockets' app instances are
        # still alive (close frames need them), then daphne cancels the instances.
        hooks = defer.Deferred.fromFuture(asyncio.ensure_future(server_shutdown.run_all()))
        return hooks.addCallback(lambda _: super(BoundedServer, self).kill_all_applications())

    @property
    def http_factory(self):
        return self._bounded_factory

    @http_factory.setter
    def http_factory(self, factory):
        # Server.run() builds daphne's own factory for this server: serve the same server through ours.
        self._bounded_factory = BoundedHTTPFactory(factory.server)
