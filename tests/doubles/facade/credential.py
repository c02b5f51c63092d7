"""A TokenCredential for the suite's azure auth method that issues short-lived tokens the facade accepts.

    FACADE_TOKEN_SECRET=... DICOMWEB_AUTH=azure \
    DICOMWEB_AZURE_CREDENTIAL=tests.doubles.facade.credential:factory python -m pytest ...

Environment (read by `factory` only):
    FACADE_TOKEN_SECRET    the secret shared with the facade (`AzureFacade(token_secret=...)`), required
    FACADE_TOKEN_LIFETIME  seconds each token lives (default 3600); just above the suite's
                           five-minute refresh margin (e.g. 302) makes it renew within seconds
    FACADE_TOKEN_LOG       optional file: one JSON line per token issued, with the scopes asked for,
                           the issue time and the expiry; never the token itself
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken

from tests.doubles.facade.tokens import audience_of_scope, mint

SECRET_ENV = "FACADE_TOKEN_SECRET"
LIFETIME_ENV = "FACADE_TOKEN_LIFETIME"
LOG_ENV = "FACADE_TOKEN_LOG"
DEFAULT_LIFETIME = 3600


class ShortLivedTestCredential:
    """`get_token(scope)` mints a token for the scope's resource that expires `lifetime` seconds later."""

    def __init__(
        self,
        secret: str,
        lifetime: int = DEFAULT_LIFETIME,
        *,
        log: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the test credential needs a secret")
        if lifetime <= 0:
            raise ValueError("the token lifetime must be positive")
        self._secret = secret
        self.lifetime = lifetime
        self._log = log
        self._clock = clock
        self._lock = threading.Lock()
        self.issued = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if len(scopes) != 1:
            raise ValueError(f"the test credential issues tokens for exactly one scope, not {scopes!r}")
        now = self._clock()
        expires_on = int(now) + self.lifetime
        token = mint(self._secret, audience_of_scope(scopes[0]), expires_on)
        with self._lock:
            self.issued += 1
            if self._log is not None:
                record = {"scopes": list(scopes), "issued_at": now, "expires_on": expires_on}
                with self._log.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
        return AccessToken(token, expires_on)


def factory() -> ShortLivedTestCredential:
    """The DICOMWEB_AZURE_CREDENTIAL entry point: configured from the environment (see the module doc)."""
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        raise ValueError(f"{SECRET_ENV} is not set: the test credential shares its secret with the facade")
    lifetime = int(os.environ.get(LIFETIME_ENV) or DEFAULT_LIFETIME)
    log = os.environ.get(LOG_ENV)
    return ShortLivedTestCredential(secret, lifetime, log=Path(log) if log else None)
