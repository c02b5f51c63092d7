"""Regression-only gating: this run against an earlier run's results, check by check.

A baseline is an earlier `conformance.json`, or a baseline file written from one (`--dicomweb-baseline-update`),
whose entries may carry a reason, a ticket and an expiry date. A check is a regression when it is worse than its
baseline entry: a failure where it passed, a check that ran and now does not, new data loss, a new 5xx; a check
the suite could not judge (SUITE-ERROR) is never accepted. An expired entry fails the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

BASELINE_FORMAT = "dicomweb-conformance-baseline/1"

# How bad an outcome is, for gating. A declared deviation and a FAIL are the same finding (the server breaks the
# rule), declared or not; BLOCKED is the server breaking a step the check depends on.
_RANK = {
    "PASS": 0,
    "FIXED": 0,
    "NON-STRICT": 1,
    "KNOWN-DEVIATION": 2,
    "FAIL": 2,
    "BLOCKED": 2,
}
NOT_CHECKED = frozenset({"NOT-APPLICABLE", "UNTESTABLE"})
NEVER_ACCEPTED = frozenset({"SUITE-ERROR"})
FAILING_WITHOUT_BASELINE = frozenset({"FAIL", "BLOCKED", "SUITE-ERROR"})


class BaselineError(ValueError):
    """The baseline file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class CheckResult:
    """What a gate needs to know of one check, in this run or in the baseline."""

    outcome: str
    requirement: str = ""
    status: int | None = None  # the status of the exchange that broke the rule, if any
    data_loss: bool = False


@dataclass(frozen=True)
class BaselineEntry:
    result: CheckResult
    reason: str = ""
    ticket: str = ""
    expires: date | None = None


@dataclass(frozen=True)
class Baseline:
    source: Path
    entries: Mapping[str, BaselineEntry]
    server: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    check: str
    before: str  # the baseline's outcome, or "absent"
    after: str
    why: str
    expired: bool = False  # an entry past its expiry date that this run still needed


@dataclass
class Comparison:
    """This run against the baseline: regressions fail the run, improvements are listed, absences noted."""

    baseline: Baseline
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    expired: list[Change] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # baseline checks this run did not collect

    @property
    def failed(self) -> bool:
        return bool(self.regressions or self.expired)

    def as_json(self) -> dict[str, Any]:
        def changes(items: list[Change]) -> list[dict[str, str]]:
            return [{"check": c.check, "before": c.before, "after": c.after, "why": c.why} for c in items]

        return {
            "file": str(self.baseline.source),
            "regressions": changes(self.regressions),
            "improvements": changes(self.improvements),
            "expired": changes(self.expired),
            "absent": list(self.absent),
        }


def judge(check: str, entry: BaselineEntry | None, now: CheckResult, today: date) -> Change | bool | None:
    """A regression (a Change), an improvement (True), or neither (None) for one check against its entry.

    An entry the check still needs (the same finding as in the baseline) fails once past its expiry date."""
    verdict = _judge(check, entry, now)
    if verdict is None and entry is not None and entry.expires is not None and entry.expires < today:
        ticket = f" ({entry.ticket})" if entry.ticket else ""
        why = f"baseline entry expired on {entry.expires.isoformat()}{ticket}: {entry.reason or 'no reason given'}"
        return Change(check, entry.result.outcome, now.outcome, why, expired=True)
    return verdict


def _judge(check: str, entry: BaselineEntry | None, now: CheckResult) -> Change | bool | None:
    if now.outcome in NEVER_ACCEPTED:
        return Change(check, entry.result.outcome if entry else "absent", now.outcome, "the suite could not judge")
    if entry is None:
        if now.outcome in FAILING_WITHOUT_BASELINE:
            return Change(check, "absent", now.outcome, "a check the baseline does not have, and it fails")
        return None
    before = entry.result
    if before.outcome in NOT_CHECKED | NEVER_ACCEPTED:
        # The baseline has no verdict on it (not checked, or the suite could not judge then): judged as new.
        if now.outcome in FAILING_WITHOUT_BASELINE:
            return Change(check, before.outcome, now.outcome, "not checked in the baseline, and it fails now")
        return None
    if now.outcome in NOT_CHECKED:
        return Change(check, before.outcome, now.outcome, "checked in the baseline, no longer checked")
    if now.data_loss and not before.data_loss:
        return Change(check, before.outcome, now.outcome, "new silent data loss")
    if _is_5xx(now.status) and not _is_5xx(before.status):
        return Change(check, before.outcome, now.outcome, f"new server error {now.status}")
    rank_before, rank_now = _RANK[before.outcome], _RANK[now.outcome]
    if rank_now > rank_before:
        return Change(check, before.outcome, now.outcome, "worse than in the baseline")
    return True if rank_now < rank_before else None


def compare(baseline: Baseline, checks: Mapping[str, CheckResult], today: date) -> Comparison:
    comparison = Comparison(baseline)
    for check, now in checks.items():
        entry = baseline.entries.get(check)
        verdict = judge(check, entry, now, today)
        if isinstance(verdict, Change):
            (comparison.expired if verdict.expired else comparison.regressions).append(verdict)
        elif verdict is True and entry is not None:
            comparison.improvements.append(Change(check, entry.result.outcome, now.outcome, "better than before"))
    comparison.absent = sorted(set(baseline.entries) - set(checks))
    # New failures first, then the rest, each in test-id order.
    comparison.regressions.sort(key=lambda change: (change.before != "absent", change.check))
    comparison.improvements.sort(key=lambda change: change.check)
    return comparison


def result_of(check: Mapping[str, Any]) -> CheckResult:
    """One check of a conformance.json or baseline file."""
    status = check.get("status")
    return CheckResult(
        outcome=str(check["outcome"]),
        requirement=str(check.get("requirement", "")),
        status=int(status) if isinstance(status, int) else None,
        data_loss=check.get("data_loss") in (True, "true"),
    )


def load_baseline(path: Path) -> Baseline:
    """An earlier conformance.json, or a baseline file; either way one entry per check."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} does not exist (write one with --dicomweb-baseline-update)") from None
    except (OSError, ValueError) as error:
        raise BaselineError(f"baseline {path} is not readable JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("checks"), dict):
        raise BaselineError(f"baseline {path} has no 'checks' object: neither a conformance.json nor a baseline file")
    entries = {}
    for check, raw in document["checks"].items():
        if not isinstance(raw, dict) or raw.get("outcome") not in {*_RANK, *NOT_CHECKED, *NEVER_ACCEPTED}:
            raise BaselineError(f"baseline {path}: check {check} has no valid outcome ({raw!r:.200})")
        entries[check] = BaselineEntry(
            result=result_of(raw),
            reason=str(raw.get("reason", "")),
            ticket=str(raw.get("ticket", "")),
            expires=_expiry(path, check, raw.get("expires")),
        )
    server = document.get("server") if isinstance(document.get("server"), dict) else {}
    return Baseline(path, entries, server or {})


def _expiry(path: Path, check: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BaselineError(f"baseline {path}: check {check} expires {value!r}, not a date (YYYY-MM-DD)") from None


def baseline_document(conformance: Mapping[str, Any], previous: Baseline | None) -> dict[str, Any]:
    """The baseline file written from this run; reasons, tickets and expiry dates already given are kept."""
    checks: dict[str, dict[str, Any]] = {}
    for check, raw in sorted(conformance["checks"].items()):
        entry: dict[str, Any] = {"outcome": raw["outcome"], "requirement": raw.get("requirement", "")}
        if raw.get("status") is not None:
            entry["status"] = raw["status"]
        if raw.get("data_loss") in (True, "true"):
            entry["data_loss"] = True
        kept = previous.entries.get(check) if previous else None
        if kept is not None:
            entry.update(
                {key: value for key, value in (("reason", kept.reason), ("ticket", kept.ticket)) if value}
                | ({"expires": kept.expires.isoformat()} if kept.expires else {})
            )
        checks[check] = entry
    return {
        "format": BASELINE_FORMAT,
        "written_from_run": conformance.get("run_id"),
        "server": conformance.get("server", {}),
        "profile": conformance.get("profile"),
        "checks": checks,
    }


def _is_5xx(status: int | None) -> bool:
    return status is not None and 500 <= status <= 599
