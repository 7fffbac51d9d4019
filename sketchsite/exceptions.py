"""The errors services raise: each carries the HTTP status and the code the API answers with.

The API's one exception handler (``sketchsite.errors.api_exception_handler``) turns them into
``{"detail", "code"}`` (plus ``errors`` naming the field at fault); pages show the message.
"""


class ServiceError(Exception):
    """A request the service refuses; the message says what to fix.

    ``field``: the input at fault (the answer names it); ``retry_after``: seconds after which the
    same request may succeed (a ``Retry-After`` header); ``messages``: every reason, the first
    being ``message``.
    """

    status = 400

    def __init__(
        self,
        message: str,
        code: str = "invalid",
        *,
        field: str | None = None,
        retry_after: int | None = None,
        messages: list[str] | None = None,
        **extra,
    ):
        super().__init__(message)
        self.message, self.code, self.field, self.retry_after = message, code, field, retry_after
        self.messages = messages or [message]
        self.extra = extra
