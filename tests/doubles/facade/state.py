"""What every route shares: the Orthanc behind the facade, the change feed and the auth setup."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tests.doubles.facade.auth import TokenVerifier
from tests.doubles.facade.changefeed import ChangeFeed
from tests.doubles.facade.orthanc_api import OrthancClient


@dataclass
class FacadeState:
    orthanc: OrthancClient
    verifier: TokenVerifier | None = None
    """Who may call: None lets every request through."""
    feed: ChangeFeed = field(default_factory=ChangeFeed)
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    """Serialises stores and deletes, so the duplicate check and the feed agree with Orthanc."""
