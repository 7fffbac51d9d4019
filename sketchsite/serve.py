"""The web process: daphne's command line on ``sketchsite.http_server.BoundedServer``.

    python -m sketchsite.serve -v 0 -b 127.0.0.1 -p 8000 sketchsite.asgi:application

takes every option of ``daphne``; only the server differs (request bodies are bounded per route).
"""

from daphne.cli import CommandLineInterface

from sketchsite.http_server import BoundedServer


class BoundedCommandLine(CommandLineInterface):
    server_class = BoundedServer


if __name__ == "__main__":
    BoundedCommandLine.entrypoint()
