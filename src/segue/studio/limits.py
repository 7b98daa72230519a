"""What one request may ask of the studio: the ``Limits``, ``RequestError`` and the upload cap.

``BodyLimit`` is the ASGI middleware that enforces the upload size cap while the body is
read (a larger body is refused without reading it whole).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segue.errors import SegueError


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server."""

    max_upload_bytes: int = 2 * 2**20
    """Largest request body (the MIDI upload and the form around it)."""
    max_bars: int = 32
    """Most bars one request may generate."""
    max_samples: int = 4
    """Most variations one request may ask for."""
    timeout_s: float = 30.0
    """Seconds a request may take before it is answered with 503."""
    workers: int = 2
    """Threads that run the model (requests beyond them wait their turn)."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_upload_bytes <= 64 * 2**20:
            raise SegueError("the upload cap must be between 1 byte and 64 MB")
        if not 1 <= self.max_bars <= 1024:
            raise SegueError("the bar cap must be between 1 and 1024")
        if not 1 <= self.max_samples <= 64:
            raise SegueError("the variation cap must be between 1 and 64")
        if not 0 < self.timeout_s <= 3600:
            raise SegueError("the request timeout must be in (0, 3600] seconds")
        if not 1 <= self.workers <= 64:
            raise SegueError("workers must be between 1 and 64")


class RequestError(Exception):
    """A request the server refuses: an HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyLimit:
    """ASGI middleware: refuse request bodies larger than ``limit`` bytes with 413.

    A declared Content-Length over the limit is refused before any byte is read; a body
    that grows past the limit while streaming is cut off at the first chunk beyond it.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(send, "bad Content-Length" if not length.isdigit() else None)
            return
        seen, over, answered = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # stop reading: the app sees the client gone
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal answered
            if over:  # whatever the app makes of the cut-off body, the answer is 413
                if not answered:
                    answered = True
                    await self._refuse(send)
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not answered:
            await self._refuse(send)

    async def _refuse(self, send: Send, reason: str | None = None) -> None:
        text = reason or f"the upload is larger than the {_size(self.limit)} limit"
        body = _json_bytes({"error": text})
        status = 400 if reason else 413
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value).encode()


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:g} MB"
    return f"{n / 2**10:g} KB" if n >= 2**10 else f"{n}-byte"
