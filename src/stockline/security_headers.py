"""Security headers on every response, a pure ASGI middleware.

Every answer (pages, API JSON, errors, static files, 404s, 413s, a 500 from the outermost
error handler) gets:

- `Content-Security-Policy`: scripts, styles, fonts, fetches and forms from this origin
  only; no inline script or style, no `javascript:` URL, no `eval`; images from this origin
  or `data:`; no plugins, no `<base>`, and no framing;
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, and
  `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`;
- `Strict-Transport-Security` when the request came over https (as the client saw it:
  the scheme a trusted proxy reported, see TRUSTED_PROXIES) or PUBLIC_URL is https.

A header the app already set on a response is left as it is, so a route may answer with a
policy of its own.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
HSTS = ("strict-transport-security", "max-age=31536000")  # a year; subdomains are not ours to pin


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, always_https: bool = False) -> None:
        """`always_https`: send HSTS whatever the request's scheme (PUBLIC_URL is https)."""
        self.app = app
        self.always_https = always_https
        self.headers = [(name.encode(), value.encode()) for name, value in HEADERS.items()]
        self.hsts = (HSTS[0].encode(), HSTS[1].encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(self.headers)
        if self.always_https or scope.get("scheme") == "https":
            extra.append(self.hsts)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
