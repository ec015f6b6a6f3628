"""A real OpenID provider for the tests: oidc-provider-mock (Authlib's authorization server
in Flask) served over HTTP on localhost in a thread, with RFC 7636 PKCE enforced in front of
it (the package, 0.3.4, accepts any code_verifier), and the steps a browser or a browser app
takes against it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import werkzeug.serving
from authlib.deprecate import AuthlibDeprecationWarning

import stockline.auth.oidc  # noqa: F401 - first: it imports Authlib's httpx client quietly

with warnings.catch_warnings():  # the test provider still imports authlib.jose, deprecated
    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
    from oidc_provider_mock import app as provider_app

CLIENT_ID = "stockline-test-client"
CLIENT_SECRET = "stockline-test-secret"  # the mock takes any secret; Stockline sends this one
SPA_REDIRECT_URI = "http://localhost:3000/login/google/callback"


class PkceEnforced:
    """WSGI middleware: remembers each issued code's code_challenge and refuses a token request
    whose code_verifier does not match it, as RFC 7636 4.6 says (400 invalid_grant)."""

    def __init__(self, app) -> None:
        self.app = app
        self.challenges: dict[str, tuple[str | None, str]] = {}
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/oauth2/authorize" and method == "POST":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            challenge = query.get("code_challenge", [None])[0]
            challenge_method = query.get("code_challenge_method", ["plain"])[0]

            def remember(status, headers, exc_info=None):
                for name, value in headers:
                    if name.lower() == "location":
                        code = parse_qs(urlsplit(value).query).get("code", [None])[0]
                        if code:
                            with self.lock:
                                self.challenges[code] = (challenge, challenge_method)
                return start_response(status, headers, exc_info)

            return self.app(environ, remember)
        if path == "/oauth2/token" and method == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            form = parse_qs(body.decode())
            if form.get("grant_type") == ["authorization_code"]:
                with self.lock:
                    challenge, challenge_method = self.challenges.get(form.get("code", [""])[0], (None, ""))
                verifier = form.get("code_verifier", [None])[0]
                if challenge is not None and (verifier is None or challenge_of(verifier, challenge_method)
                                              != challenge):
                    answer = json.dumps({"error": "invalid_grant",
                                         "error_description": "code_verifier does not match"}).encode()
                    start_response("400 BAD REQUEST", [("Content-Type", "application/json"),
                                                       ("Content-Length", str(len(answer)))])
                    return [answer]
        return self.app(environ, start_response)


def challenge_of(verifier: str, method: str = "S256") -> str:
    if method == "plain":
        return verifier
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@contextmanager
def running_provider() -> Iterator[str]:
    """The provider at http://localhost:<port> (its issuer), until the block ends."""
    server = werkzeug.serving.make_server("localhost", 0, PkceEnforced(provider_app(require_nonce=False)),
                                          threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def set_user(issuer: str, sub: str, **claims: object) -> None:
    """The provider's account `sub` and the claims it vouches for (email, email_verified...)."""
    httpx.put(f"{issuer}/users/{sub}", json=claims).raise_for_status()


def approve(authorize_url: str, sub: str) -> str:
    """Sign in at the provider as `sub` (its consent form's button): the redirect back, with
    the code and the state."""
    answer = httpx.post(authorize_url, data={"sub": sub})
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["location"]


def deny(authorize_url: str) -> str:
    """Refuse at the provider's consent form: the redirect back, with error=access_denied."""
    answer = httpx.post(authorize_url, data={"action": "deny"})
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["location"]


def spa_code(issuer: str, sub: str, verifier: str, *, redirect_uri: str = SPA_REDIRECT_URI) -> str:
    """What PharmAssist's frontend does before it calls the exchange: the authorization request
    with its own state and S256 challenge, the user's approval, the code from the callback."""
    query = urlencode({"client_id": CLIENT_ID, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "openid email profile", "state": secrets.token_urlsafe(8),
                       "code_challenge": challenge_of(verifier), "code_challenge_method": "S256"})
    back = approve(f"{issuer}/oauth2/authorize?{query}", sub)
    return parse_qs(urlsplit(back).query)["code"][0]
