"""The circuit breaker: when is a server taken for down, and what is said then."""

from __future__ import annotations

import pytest

from dicomweb_conformance.transport import health
from dicomweb_conformance.transport.exchange import Exchange
from dicomweb_conformance.transport.health import ServerDown, ServerHealth


def exchange(method: str, path: str, status: int | None, error: str | None = None) -> Exchange:
    found = Exchange(method, f"http://127.0.0.1:1/dicom-web/{path}", {}, "(empty)", status=status)
    found.error = error
    return found


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "PROBE_PAUSE_S", 0.0)


def test_no_answer_and_no_answer_to_the_probe_is_an_outage_named_after_the_last_answered_request() -> None:
    probes: list[int | None] = []

    def probe() -> None:
        probes.append(None)

    watch = ServerHealth(probe)
    watch.answered(exchange("GET", "studies/1.2/metadata", 200))
    refused = exchange("GET", "studies/1.2/series/3/instances/4/frames/1", None, "ConnectionError: refused")
    with pytest.raises(ServerDown) as raised:
        watch.no_answer(refused)
    assert raised.value.on_this_request
    assert len(probes) == health.PROBE_ATTEMPTS
    assert "last request it answered: GET http://127.0.0.1:1/dicom-web/studies/1.2/metadata -> 200" in str(raised.value)
    assert "frames/1 (ConnectionError: refused)" in str(raised.value)
    with pytest.raises(ServerDown) as later:
        watch.raise_if_down()
    assert not later.value.on_this_request, "later checks are blocked, not failed"


def test_one_lost_answer_from_a_server_that_still_answers_is_no_outage() -> None:
    watch = ServerHealth(lambda: 200)
    watch.no_answer(exchange("GET", "studies", None, "ReadTimeout"))
    watch.raise_if_down()
    assert not watch.down


def test_a_probe_answered_with_a_server_error_counts_as_no_answer() -> None:
    watch = ServerHealth(lambda: 503)
    with pytest.raises(ServerDown):
        watch.no_answer(exchange("POST", "studies", None, "ConnectionResetError"))


def test_server_errors_to_every_kind_of_request_open_the_breaker() -> None:
    watch = ServerHealth(lambda: 500)
    kinds = [("GET", "studies"), ("POST", "studies"), ("GET", "studies/1/metadata"), ("GET", "series")]
    for index in range(health.ERROR_RUN):
        method, path = kinds[index % len(kinds)]
        watch.answered(exchange(method, path, 500))
    assert watch.down


def test_server_errors_to_one_kind_of_request_are_verdicts_not_an_outage() -> None:
    """A server whose QIDO answers 500 is broken in QIDO, not down: those checks FAIL one by one."""
    watch = ServerHealth(lambda: 500)
    for _ in range(3 * health.ERROR_RUN):
        for path in ("studies", "series", "instances"):
            watch.answered(exchange("GET", path, 500))
    assert not watch.down


def test_an_answer_below_500_resets_the_run_of_errors() -> None:
    watch = ServerHealth(lambda: 500)
    kinds = [("GET", "studies"), ("POST", "studies"), ("GET", "studies/1/metadata")]
    for index in range(health.ERROR_RUN - 1):
        method, path = kinds[index % len(kinds)]
        watch.answered(exchange(method, path, 500))
    watch.answered(exchange("GET", "studies", 404))
    watch.answered(exchange("GET", "series", 500))
    assert not watch.down
