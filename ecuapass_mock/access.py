"""Who may call the mock's customs API: the bearer tokens it knows (one, or one per client by name) and, behind
mutual TLS, a client certificate. The admin, metrics and health routes are the mock's own tooling and stay open."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class Access:
    """``require_token``: one token, or several by client name (one per agency); ``client_certificates``: the
    server asks for them (``server.py``) and API requests that came without one are refused."""

    def __init__(self, require_token: str | Mapping[str, str] | None, *, client_certificates: bool) -> None:
        self.tokens = {"client": require_token} if isinstance(require_token, str) else dict(require_token or {})
        self.client_certificates = client_certificates

    def client(self, request: Request) -> str | None:
        """The name of the bearer token the request carries, if it is one of ``tokens``."""
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        # Every token compared in constant time, so the time taken does not tell which one came closest.
        matches = [name for name, token in self.tokens.items() if hmac.compare_digest(given.encode(), token.encode())]
        return matches[0] if matches else None

    def refusal(self, request: Request) -> Response | None:
        """403 without a client certificate, 401 without a bearer token; ``None`` when the caller may go on."""
        if self.client_certificates and not request.app.state.client_certificate(request):
            return JSONResponse({"error": "client certificate required"}, status_code=403)
        if self.tokens and self.client(request) is None:
            return JSONResponse(
                {"error": "missing or invalid bearer token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="ecuapass-mock"'},
            )
        return None
