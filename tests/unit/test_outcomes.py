"""Outcomes travel as objects: typed skips, the requirement of the reported check, the client's exchange record."""

from __future__ import annotations

import pytest
import requests

from dicomweb_conformance.checks.common import (
    BlockedBy,
    ConformanceFailure,
    NotApplicable,
    Untestable,
    attach_requirement,
    fail,
    not_applicable,
    untestable,
)
from dicomweb_conformance.config.catalog import Outcome
from dicomweb_conformance.plugin.outcomes import classify
from dicomweb_conformance.transport.client import exchange_of


def _skipped(error: BaseException) -> tuple[pytest.TestReport, pytest.CallInfo[None]]:
    call = pytest.CallInfo.from_call(lambda: (_ for _ in ()).throw(error), when="call")
    report = pytest.TestReport("t.py::t", ("t.py", 1, "t"), {}, "skipped", ("t.py", 1, str(error)), "call")
    return report, call


@pytest.mark.parametrize(
    ("raise_it", "expected"),
    [
        (lambda: not_applicable("no change feed claimed"), Outcome.NOT_APPLICABLE),
        (lambda: untestable("NOT-APPLICABLE in the words of an untestable reason"), Outcome.UNTESTABLE),
        (lambda: pytest.skip("NOT-APPLICABLE: a bare skip says nothing by its words"), Outcome.UNTESTABLE),
    ],
)
def test_not_applicable_and_untestable_are_told_apart_by_type(raise_it: object, expected: Outcome) -> None:
    try:
        raise_it()  # type: ignore[operator]
    except pytest.skip.Exception as error:
        report, call = _skipped(error)
    assert classify(report, call, "SHALL", strict_should=False) is expected
    assert isinstance(call.excinfo.value if call.excinfo else None, (NotApplicable, Untestable, pytest.skip.Exception))


def test_the_items_not_applicable_mark_makes_it_not_applicable() -> None:
    report, call = _skipped(pytest.skip.Exception("skipped by its mark"))
    assert classify(report, call, "SHALL", strict_should=False, not_applicable=True) is Outcome.NOT_APPLICABLE


def test_a_failure_gets_the_requirement_of_the_check_it_is_reported_in() -> None:
    unnamed = ConformanceFailure("wrong", expected=1, actual=2)
    assert str(unnamed).startswith("[no requirement] wrong")
    attach_requirement(unnamed, "DW-QIDO-001")
    assert str(unnamed).startswith("[DW-QIDO-001] wrong")
    named = fail("refused", expected=200, actual=400, requirement="DW-STOW-001")
    blocked = BlockedBy("storing the corpus", named)
    attach_requirement(blocked, "DW-WADO-001")
    assert named.requirement == "DW-STOW-001", "a failure that names its requirement keeps it"
    inner = ConformanceFailure("lost", expected="kept", actual="gone")
    attach_requirement(BlockedBy("finding the corpus", inner), "DW-WADO-002")
    assert inner.requirement == "DW-WADO-002"
    assert "blocked: finding the corpus failed\n[DW-WADO-002] lost" in str(BlockedBy("finding the corpus", inner))


def test_only_a_clients_response_has_an_exchange() -> None:
    response = requests.Response()
    assert exchange_of(response) is None
    assert not hasattr(response, "exchange")
