"""The bounded HTTP server's connection, driven in-process over Twisted's StringTransport and Clock.

The real-socket tests (floods, uploads at the limit) are in tests/security/test_body_flood.py.
"""

import asyncio
import json

import pytest
from daphne.server import Server
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from sketchsite.body_limits import body_limit
from sketchsite.http_server import LINGER_BYTES, LINGER_SECONDS, BoundedHTTPFactory, BoundedRequest


@pytest.fixture
def connect():
    """A server connection on a string transport; returns (channel, transport, clock).

    A request that reaches the app is handed to ``application`` on an event loop of this
    fixture's own, which runs those calls at the end.
    """
    try:
        previous = asyncio.get_event_loop()
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    async def application(scope, receive, send):
        return None

    server = Server(application=application, endpoints=["tcp:port=0:interface=127.0.0.1"])
    server.connections = {}
    factory = BoundedHTTPFactory(server)
    clock = Clock()
    factory.reactor = clock
    opened = []

    def open_one():
        channel = factory.buildProtocol(None)
        transport = StringTransport()
        channel.makeConnection(transport)
        opened.append(channel)
        return channel, transport, clock

    yield open_one
    for channel in opened:
        channel.connectionLost(None)
    loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop)))
    loop.close()
    asyncio.set_event_loop(previous)


def head(path: str, **headers) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: testserver", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(transport) -> tuple[bytes, dict]:
    raw = transport.value()
    status_and_headers, _, body = raw.partition(b"\r\n\r\n")
    return status_and_headers, json.loads(body)


def test_limits_come_from_the_route(settings):
    settings.MAX_FILE_SIZE = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 300
    assert body_limit("/api/upload/local") == 1000 + 64 * 1024
    assert body_limit("/api/upload/local/") == 1000 + 64 * 1024
    assert body_limit("/api/auth/login") == 300
    assert body_limit("/nothing/at/all") == 300
    assert body_limit("/") == 300


def test_declared_length_over_the_limit_is_refused_before_any_body(connect, settings):
    channel, transport, _ = connect()
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    channel.dataReceived(head("/api/auth/login", Content_Type="application/json", Content_Length=limit + 1))
    status, body = answer(transport)
    assert status.startswith(b"HTTP/1.1 413 "), status
    assert b"\r\nConnection: close" in status and b"\r\nContent-Type: application/json" in status
    assert body == {
        "detail": f"The request body is too large: this address takes at most {limit} bytes.",
        "code": "request_too_large",
    }
    assert transport.disconnecting  # the answer is complete: no more is written


def test_no_100_continue_for_a_refused_body(connect):
    channel, transport, _ = connect()
    channel.dataReceived(head("/nothing", Content_Type="text/plain", Content_Length=10**9, Expect="100-continue"))
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in transport.value()


def test_the_upload_route_takes_up_to_its_own_limit(connect, settings):
    settings.MAX_FILE_SIZE = 4096
    channel, transport, _ = connect()
    limit = 4096 + 64 * 1024
    channel.dataReceived(head("/api/upload/local", Content_Type="multipart/form-data; boundary=x", Content_Length=limit))
    assert transport.value() == b"", "a body at the limit is awaited, not refused"
    channel.dataReceived(b"x" * (limit - 1))
    assert transport.value() == b""
    assert isinstance(channel.requests[-1], BoundedRequest) and not channel.requests[-1].refused

    channel, transport, _ = connect()
    channel.dataReceived(head("/api/upload/local", Content_Type="multipart/form-data; boundary=x", Content_Length=limit + 1))
    assert transport.value().startswith(b"HTTP/1.1 413 ")


def test_a_chunked_body_is_cut_off_at_the_limit_and_the_rest_dropped(connect, settings):
    channel, transport, _ = connect()
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    channel.dataReceived(head("/api/auth/login", Content_Type="application/json", Transfer_Encoding="chunked"))
    request = channel.requests[-1]
    piece = b"y" * 65536
    for _ in range(limit // len(piece)):
        channel.dataReceived(b"%x\r\n%s\r\n" % (len(piece), piece))
    assert transport.value() == b"" and request.content.tell() == limit  # exactly at the limit: still welcome
    channel.dataReceived(b"1\r\nz\r\n")
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert request.refused and request.content.tell() == limit, "nothing past the limit is stored"
    for _ in range(50):  # the client goes on sending: dropped, not stored, not answered again
        channel.dataReceived(b"%x\r\n%s\r\n" % (len(piece), piece))
    assert request.content.tell() == limit
    assert transport.value().count(b"HTTP/1.1") == 1


def test_a_refused_connection_is_closed_when_the_body_ends_or_the_linger_time_runs_out(connect, settings):
    channel, transport, clock = connect()
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10
    channel.dataReceived(head("/nothing", Content_Type="text/plain", Content_Length=size))
    channel.dataReceived(b"a" * size)  # the whole declared body arrived: nothing is processed
    assert channel.requests[-1].refused
    assert transport.value().count(b"HTTP/1.1") == 1

    channel, transport, clock = connect()
    channel.dataReceived(head("/nothing", Content_Type="text/plain", Content_Length=10**9))
    channel.dataReceived(b"a" * 100_000)
    clock.advance(LINGER_SECONDS - 0.5)
    assert not transport.disconnected
    clock.advance(1)
    assert transport.disconnected, "a client that keeps sending is cut off after the linger time"

    channel, transport, clock = connect()
    channel.dataReceived(head("/nothing", Content_Type="text/plain", Content_Length=10**9))
    piece = b"a" * 65536
    for _ in range(LINGER_BYTES // len(piece)):
        channel.dataReceived(piece)
    assert not transport.disconnected
    channel.dataReceived(piece)
    assert transport.disconnected, "nor is more than LINGER_BYTES of a refused body read"


def test_twisted_does_not_parse_form_bodies(connect):
    """Twisted's own form parsing (request.args) would read a whole form or multipart body in the event loop."""
    channel, transport, _ = connect()
    body = b"a=1&b=2"
    channel.dataReceived(head("/nothing", Content_Type="application/x-www-form-urlencoded", Content_Length=len(body)))
    request = channel.requests[-1]
    channel.dataReceived(body)
    assert request.method == b"POST" and request.args == {}
    request.content.seek(0)
    assert request.content.read() == body, "the body itself goes on to Django untouched"


def test_query_strings_still_parse(connect):
    channel, _, _ = connect()
    channel.dataReceived(b"GET /health?x=1 HTTP/1.1\r\n")
    request = channel.requests[-1]
    channel.dataReceived(b"Host: testserver\r\n\r\n")
    assert request.args == {b"x": [b"1"]}
