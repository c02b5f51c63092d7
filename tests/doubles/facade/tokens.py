"""Signed test tokens: what the test credential issues and the facade verifies (test infrastructure only).

A token is `<payload>.<signature>`: the payload is base64url JSON {"aud", "exp", "nonce"}, the
signature base64url HMAC-SHA256 of the payload under a secret the credential and the facade share.
It stands in for an Entra ID access token: an audience, an expiry and a signature are what the
facade checks, as ASP.NET's JwtBearer does for the real service (reference section 3).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

# The managed service's audience, shared by every DICOM service (reference section 3).
DICOM_AUDIENCE = "https://dicom.healthcareapis.azure.com"
DEFAULT_SCOPE_SUFFIX = "/.default"


class InvalidToken(ValueError):
    """The token is not one the facade accepts; the message is the error_description."""


@dataclass(frozen=True)
class TokenClaims:
    audience: str
    expires_on: int


def audience_of_scope(scope: str) -> str:
    """Entra ID v2 scopes name the resource plus "/.default"; the token's audience is the resource."""
    return scope.removesuffix(DEFAULT_SCOPE_SUFFIX)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def mint(secret: str, audience: str, expires_on: int) -> str:
    """A new token (a fresh nonce each time, so no two tokens are equal)."""
    claims = {"aud": audience, "exp": expires_on, "nonce": secrets.token_hex(8)}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def verify(token: str, secret: str, *, audience: str, now: float) -> TokenClaims:
    """The token's claims when it is signed with `secret`, meant for `audience` and not expired."""
    payload, dot, signature = token.partition(".")
    if not dot or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        raise InvalidToken("The signature is invalid")
    try:
        claims = json.loads(_unb64(payload))
        found = TokenClaims(str(claims["aud"]), int(claims["exp"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidToken("The token is malformed") from None
    if found.audience != audience:
        raise InvalidToken(f"The audience '{found.audience}' is invalid")
    if found.expires_on <= now:
        raise InvalidToken(f"The token expired at '{found.expires_on}'")
    return found
