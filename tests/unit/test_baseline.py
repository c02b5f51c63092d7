"""reporting/baseline.py: which changes against a baseline fail a gated run, and which do not."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dicomweb_conformance.reporting.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    Change,
    CheckResult,
    baseline_document,
    compare,
    judge,
    load_baseline,
)

TODAY = date(2026, 12, 5)


def entry(outcome: str, status: int | None = None, data_loss: bool = False, **extra: object) -> BaselineEntry:
    return BaselineEntry(CheckResult(outcome, "DW-X-001", status, data_loss), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [
        ("PASS", "FAIL", "worse than in the baseline"),
        ("PASS", "KNOWN-DEVIATION", "worse than in the baseline"),
        ("NON-STRICT", "FAIL", "worse than in the baseline"),
        ("PASS", "BLOCKED", "worse than in the baseline"),
        ("PASS", "NOT-APPLICABLE", "checked in the baseline, no longer checked"),
        ("FAIL", "UNTESTABLE", "checked in the baseline, no longer checked"),
        ("NOT-APPLICABLE", "FAIL", "not checked in the baseline, and it fails now"),
        ("SUITE-ERROR", "FAIL", "not checked in the baseline, and it fails now"),
        ("FAIL", "SUITE-ERROR", "the suite could not judge"),
        ("SUITE-ERROR", "SUITE-ERROR", "the suite could not judge"),
    ],
)
def test_a_worse_outcome_is_a_regression(before: str, after: str, why: str) -> None:
    change = judge("t", entry(before), CheckResult(after), TODAY)
    assert isinstance(change, Change)
    assert (change.before, change.after, change.why) == (before, after, why)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("FAIL", "FAIL"),
        ("FAIL", "KNOWN-DEVIATION"),
        ("KNOWN-DEVIATION", "FAIL"),
        ("BLOCKED", "BLOCKED"),
        ("PASS", "PASS"),
        ("PASS", "FIXED"),
        ("NOT-APPLICABLE", "NOT-APPLICABLE"),
        ("UNTESTABLE", "PASS"),
        ("SUITE-ERROR", "PASS"),
        ("SUITE-ERROR", "KNOWN-DEVIATION"),
    ],
)
def test_the_same_finding_is_accepted(before: str, after: str) -> None:
    assert judge("t", entry(before), CheckResult(after), TODAY) is None


@pytest.mark.parametrize(("before", "after"), [("FAIL", "PASS"), ("NON-STRICT", "PASS"), ("BLOCKED", "NON-STRICT")])
def test_a_better_outcome_is_an_improvement(before: str, after: str) -> None:
    assert judge("t", entry(before), CheckResult(after), TODAY) is True


def test_the_same_outcome_with_new_data_loss_or_a_new_5xx_is_a_regression() -> None:
    data_loss = judge("t", entry("FAIL", 200), CheckResult("FAIL", status=200, data_loss=True), TODAY)
    assert isinstance(data_loss, Change)
    assert data_loss.why == "new silent data loss"
    server_error = judge("t", entry("FAIL", 400), CheckResult("FAIL", status=500), TODAY)
    assert isinstance(server_error, Change)
    assert server_error.why == "new server error 500"
    assert judge("t", entry("FAIL", 500), CheckResult("FAIL", status=503), TODAY) is None
    assert (
        judge("t", entry("FAIL", 200, data_loss=True), CheckResult("FAIL", status=200, data_loss=True), TODAY) is None
    )


def test_a_check_the_baseline_lacks_is_judged_as_without_a_baseline() -> None:
    assert judge("t", None, CheckResult("PASS"), TODAY) is None
    assert judge("t", None, CheckResult("KNOWN-DEVIATION"), TODAY) is None
    new_failure = judge("t", None, CheckResult("FAIL"), TODAY)
    assert isinstance(new_failure, Change)
    assert new_failure.before == "absent"


def test_compare_lists_new_failures_first_improvements_expiry_and_absent_checks() -> None:
    baseline = Baseline(
        Path("b.json"),
        {
            "a": entry("PASS"),
            "b": entry("FAIL"),
            "c": entry("FAIL", reason="vendor bug", ticket="PACS-12", expires=date(2026, 12, 1)),
            "gone": entry("PASS"),
        },
    )
    now = {"a": CheckResult("FAIL"), "b": CheckResult("PASS"), "c": CheckResult("FAIL"), "new": CheckResult("FAIL")}
    comparison = compare(baseline, now, TODAY)
    assert [(c.check, c.before) for c in comparison.regressions] == [("new", "absent"), ("a", "PASS")]
    assert [c.check for c in comparison.improvements] == ["b"]
    assert [c.check for c in comparison.expired] == ["c"]
    assert "expired on 2026-12-01 (PACS-12): vendor bug" in comparison.expired[0].why
    assert comparison.absent == ["gone"]
    assert comparison.failed


def test_an_entry_expiring_today_or_later_still_holds_and_an_expired_one_matters_only_while_needed() -> None:
    baseline = Baseline(Path("b.json"), {"c": entry("FAIL", expires=TODAY)})
    assert not compare(baseline, {"c": CheckResult("FAIL")}, TODAY).failed
    expired = Baseline(Path("b.json"), {"c": entry("FAIL", expires=date(2026, 1, 1))})
    assert compare(expired, {"c": CheckResult("FAIL")}, TODAY).failed
    assert not compare(expired, {"c": CheckResult("PASS")}, TODAY).failed


def test_a_baseline_written_from_a_run_keeps_reasons_and_reads_back(tmp_path: Path) -> None:
    conformance = {
        "run_id": "r1",
        "server": {"name": "Orthanc", "version": "1.10.1"},
        "profile": "standard",
        "checks": {
            "t1": {"outcome": "FAIL", "requirement": "DW-A-001", "status": 500, "data_loss": "true"},
            "t2": {"outcome": "PASS", "requirement": "DW-A-002"},
        },
    }
    previous = Baseline(Path("old"), {"t1": entry("FAIL", reason="known", ticket="T-1", expires=date(2027, 1, 1))})
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline_document(conformance, previous)))
    loaded = load_baseline(path)
    assert loaded.entries["t1"] == BaselineEntry(
        CheckResult("FAIL", "DW-A-001", 500, True), "known", "T-1", date(2027, 1, 1)
    )
    assert loaded.entries["t2"].result == CheckResult("PASS", "DW-A-002")
    assert loaded.server == {"name": "Orthanc", "version": "1.10.1"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not readable JSON"),
        ('{"checks": []}', "has no 'checks' object"),
        ('{"checks": {"t": {"outcome": "GREAT"}}}', "check t has no valid outcome"),
        ('{"checks": {"t": {"outcome": "FAIL", "expires": "soon"}}}', "expires 'soon', not a date"),
    ],
)
def test_an_unusable_baseline_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match=message):
        load_baseline(path)


def test_a_missing_baseline_says_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="--dicomweb-baseline-update"):
        load_baseline(tmp_path / "nowhere.json")
