"""A circuit breaker: when the server stops answering, say so once, stop sending, and block what is left.

A server that crashed on a request must not cost every remaining check its own timeout, nor be reported as
a page of connection errors: the run names the last request it answered and the one it did not survive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dicomweb_conformance.transport.exchange import Exchange

PROBE_ATTEMPTS = 3
PROBE_PAUSE_S = 1.0
# "5xx to everything": this many server errors in a row, over this many kinds of request and both reads and writes.
ERROR_RUN = 20
ERROR_RUN_SHAPES = 3
ERROR_RUN_METHODS = 2


class ServerDown(Exception):
    """The server stopped answering; nothing more is sent to it in this run.

    `on_this_request` is true for the request the server did not survive: that check FAILs; every later
    one is BLOCKED."""

    def __init__(self, message: str, *, on_this_request: bool = False):
        super().__init__(message)
        self.on_this_request = on_this_request


@dataclass(frozen=True)
class Outage:
    why: str
    last_answered: Exchange | None
    failed: Exchange
    at: float = field(default_factory=time.time)

    def describe(self) -> str:
        last = self.last_answered
        before = f"{last.method} {last.url} -> {last.status}" if last else "(no request had been answered)"
        return (
            f"THE SERVER STOPPED ANSWERING ({self.why}).\n"
            f"  last request it answered: {before}\n"
            f"  the request it did not answer: {self.failed.method} {self.failed.url}"
            + (f" ({self.failed.error})" if self.failed.error else f" -> {self.failed.status}")
        )


def _shape(exchange: Exchange) -> tuple[str, str]:
    """The kind of request: method and the path's last non-UID segment (studies, series, metadata, frames...)."""
    words = [s for s in urlsplit(exchange.url).path.split("/") if s and not s[0].isdigit()]
    return exchange.method, words[-1] if words else ""


class ServerHealth:
    """Watches every exchange of one client. `probe()` says whether the server still answers a simple search."""

    def __init__(self, probe: Callable[[], int | None]):
        self._probe = probe
        self.last_answered: Exchange | None = None
        self.outage: Outage | None = None
        self._errors_in_a_row: list[Exchange] = []
        # Once a stored instance was not found by QIDO within the visibility timeout, later waits ask once instead
        # of polling: a broken index must not cost every corpus and every sample file its own timeout.
        self.visibility_lost = False
        self._lock = threading.Lock()  # a fixture's pool reports answers from several threads

    @property
    def down(self) -> bool:
        return self.outage is not None

    def raise_if_down(self) -> None:
        if self.outage is not None:
            raise ServerDown(self.outage.describe())

    def answered(self, exchange: Exchange) -> None:
        """An HTTP answer: the check judges it; a long run of 5xx to every kind of request opens the breaker."""
        with self._lock:
            if exchange.status is not None and exchange.status < 500:
                self.last_answered = exchange
                self._errors_in_a_row.clear()
                return
            self._errors_in_a_row.append(exchange)
            recent = self._errors_in_a_row[-ERROR_RUN:]
            shapes = {_shape(e) for e in recent}
            methods = {e.method for e in recent}
            if len(recent) >= ERROR_RUN and len(shapes) >= ERROR_RUN_SHAPES and len(methods) >= ERROR_RUN_METHODS:
                why = f"{len(self._errors_in_a_row)} server errors in a row, to reads and writes"
                self.outage = Outage(why, self.last_answered, exchange)

    def no_answer(self, exchange: Exchange) -> None:
        """The request got no HTTP answer at all; if the server does not answer a probe either, it is down."""
        if not self._answers():
            self.outage = Outage("no answer, not even to a simple search", self.last_answered, exchange)
            raise ServerDown(self.outage.describe(), on_this_request=True)

    def _answers(self) -> bool:
        for attempt in range(PROBE_ATTEMPTS):
            status = self._probe()
            if status is not None and status < 500:
                return True
            if attempt + 1 < PROBE_ATTEMPTS:
                time.sleep(PROBE_PAUSE_S)
        return False
