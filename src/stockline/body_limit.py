"""The request-body limit (`MAX_BODY_BYTES`), a pure ASGI middleware.

Every request with a body is held to the limit, whatever its route, method or content type
(JSON, forms, multipart):

- a `Content-Length` over the limit is answered 413 at once: the app is not called and
  nothing of the body is read;
- a body without `Content-Length` (chunked), or longer than its `Content-Length` says, is
  counted while the app reads it: the read that passes the limit raises `BodyTooLarge`
  instead of handing the bytes over, nothing more is read, and the answer is 413 (whatever
  the app tried to answer after that is dropped).

The answer is the one error shape: `payload_too_large` with `{"limit_bytes": N}`. A response
the app had already started before the limit was passed cannot be replaced; reading still
stops.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockline.errors import error_response


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes the limit. An HTTPException, so FastAPI's
    body parsing passes it on instead of turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_message(limit))


def _message(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            raw = value.strip()
            return int(raw) if raw.isdigit() else None  # bytes: ASCII digits only
    return None


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    response = error_response(413, "payload_too_large", _message(limit), {"limit_bytes": limit},
                              headers={"Connection": "close"})

    async def nothing_to_read() -> Message:  # the body is not read any further
        return {"type": "http.disconnect"}

    await response(scope, nothing_to_read, send)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, send, limit)
            return

        received = 0
        exceeded = False
        app_started = False  # the app's response began before the limit was passed

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if exceeded and not app_started:
                return  # the app's answer to the cut body; the 413 replaces it
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or app_started:
                raise
        if exceeded and not app_started:
            await _too_large(scope, send, limit)
