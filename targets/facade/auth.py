"""Bearer-token checks, answering as ASP.NET's JwtBearer handler does (reference section 3, "401")."""

from __future__ import annotations

import hmac

from targets.facade.messages import Response


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def check_bearer(authorization: str | None, tokens: frozenset[str] | None) -> Response | None:
    """None when the request may go on; otherwise the 401 to send (empty body, like JwtBearer)."""
    if tokens is None:
        return None
    token = bearer_token(authorization)
    if token is None:
        return Response(401, headers={"WWW-Authenticate": "Bearer"})
    if not any(hmac.compare_digest(token.encode(), valid.encode()) for valid in tokens):
        return Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return None
