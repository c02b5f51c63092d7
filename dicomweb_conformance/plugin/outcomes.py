"""Outcomes and verdicts: each check tied to its requirement at collection, and each phase report turned into
its conformance outcome (config/catalog.py Outcome), deviations judged."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from dicomweb_conformance.checks.common import (
    BlockedBy,
    ConformanceFailure,
    DataLossFailure,
    NotApplicable,
    attach_requirement,
    failure_signature,
)
from dicomweb_conformance.config.catalog import Outcome, Requirement
from dicomweb_conformance.config.deviations import Deviation, unmatched_tests
from dicomweb_conformance.paths import SUITES_DIR
from dicomweb_conformance.plugin.state import RUN_STATE, RunState
from dicomweb_conformance.transport.exchange import Exchange
from dicomweb_conformance.transport.health import ServerDown
from dicomweb_conformance.transport.redaction import REDACTOR

REQUIREMENT_KEY = pytest.StashKey[Requirement]()
DEVIATION_KEY = pytest.StashKey[Deviation]()
NOT_APPLICABLE_KEY = pytest.StashKey[str]()

EXCHANGES_SHOWN = 25


@pytest.hookimpl(tryfirst=True)  # before -k, -m and --deselect remove items: deviations are judged on all collected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(RUN_STATE, None)
    if state is None:
        return
    problems = []
    collected = []
    for item in items:
        if SUITES_DIR not in Path(str(item.path)).parents:
            continue
        collected.append(item.nodeid)
        markers = list(item.iter_markers("req"))
        if len(markers) != 1 or len(markers[0].args) != 1:
            problems.append(f"{item.nodeid}: needs exactly one @pytest.mark.req('ID')")
            continue
        requirement = state.catalog.get(markers[0].args[0])
        if requirement is None:
            problems.append(f"{item.nodeid}: requirement {markers[0].args[0]!r} is not in the catalogue")
            continue
        _apply_requirement(item, requirement, state)
    if problems:
        raise pytest.UsageError("conformance checks without a valid requirement:\n  " + "\n  ".join(problems))
    unmatched = unmatched_tests(state.target.deviations, collected, whole_suite=_whole_suite_collected(config))
    if unmatched:
        raise pytest.UsageError(
            "deviation(s) of the target file naming no collected test:\n  "
            + "\n  ".join(f"{d.where}: test {d.test!r}" for d in unmatched)
        )


def _whole_suite_collected(config: pytest.Config) -> bool:
    """The run collects every check: a path given is suites/ or above it, with no node selected, none ignored."""
    if config.getoption("ignore", None) or config.getoption("ignore_glob", None):
        return False
    for arg in config.args:
        if "::" in str(arg):
            continue
        path = Path(str(arg)).resolve()
        if path == SUITES_DIR or path in SUITES_DIR.parents:
            return True
    return False


def _apply_requirement(item: pytest.Item, requirement: Requirement, state: RunState) -> None:
    item.stash[REQUIREMENT_KEY] = requirement
    item.user_properties += [
        ("requirement", requirement.id),
        ("feature", requirement.feature),
        ("level", requirement.level_for(state.target.profile)),
    ]
    reason = requirement.not_applicable_because(state.target)
    if reason:
        item.stash[NOT_APPLICABLE_KEY] = reason
        item.add_marker(pytest.mark.skip(reason=f"{Outcome.NOT_APPLICABLE.value}: {reason}"))
        return
    deviation = applicable_deviation(
        state.target.deviations,
        requirement.id,
        item.nodeid,
        state.server.version,
        _sample_syntax(item),
        api_version=state.target.api_version,
    )
    if deviation is not None:
        item.stash[DEVIATION_KEY] = deviation


def _sample_syntax(item: pytest.Item) -> str:
    """The stored transfer syntax of the sample file a per-file check runs on ("" for any other check)."""
    callspec = getattr(item, "callspec", None)
    source = callspec.params.get("sample_source") if callspec is not None else None
    return str(getattr(source, "transfer_syntax", "") or "")


def applicable_deviation(
    deviations: tuple[Deviation, ...],
    requirement: str,
    nodeid: str,
    version: str | None,
    syntax: str | None = None,
    *,
    api_version: str | None = None,
) -> Deviation | None:
    """The first deviation naming this check (by test, else requirement) for this server version and API version
    (and, for a per-file check, the sample file's transfer syntax)."""
    for deviation in deviations:
        if (
            deviation.matches(requirement, nodeid, syntax)
            and deviation.applies_to(version)
            and deviation.applies_to_api(api_version)
        ):
            return deviation
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """After the server went down, the remaining checks are blocked without sending anything."""
    state = item.config.stash.get(RUN_STATE, None)
    if state is not None and REQUIREMENT_KEY in item.stash and NOT_APPLICABLE_KEY not in item.stash:
        state.client.health.raise_if_down()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    requirement = item.stash.get(REQUIREMENT_KEY, None)
    if requirement is not None and call.excinfo is not None:
        attach_requirement(call.excinfo.value, requirement.id)  # before the report renders the failure
    report = yield
    _redact_report(report)
    state = item.config.stash.get(RUN_STATE, None)
    if requirement is None or state is None:
        return report
    exchanges: list[Exchange] = []
    if report.when == "call" or report.outcome != "passed":
        exchanges = state.client.take_exchanges()
        if exchanges:
            shown = exchanges[-EXCHANGES_SHOWN:]
            header = f"{len(exchanges)} exchanges, last {len(shown)} shown\n\n" if len(exchanges) > len(shown) else ""
            report.sections.append(("DICOMweb exchanges", header + "\n\n".join(e.render() for e in shown)))
    level = requirement.level_for(state.target.profile)
    outcome = classify(
        report, call, level, strict_should=state.strict_should, not_applicable=NOT_APPLICABLE_KEY in item.stash
    )
    if outcome is None:
        return report
    error = call.excinfo.value if call.excinfo is not None else None
    lost_data = isinstance(error, DataLossFailure)
    if lost_data and outcome is Outcome.NON_STRICT:
        outcome = Outcome.FAIL  # losing data is never a mere SHOULD
    properties = [("conformance_outcome", outcome.value)]
    if isinstance(error, ConformanceFailure):
        signature = failure_signature(error, exchanges[-1] if exchanges else None)
        properties.append(("failure", str(signature)))
        if signature.status is not None:
            properties.append(("failure_status", str(signature.status)))
    deviation = item.stash.get(DEVIATION_KEY, None)
    if deviation is not None and report.when == "call":
        outcome, changed = _judge_deviation(report, deviation, outcome, error, exchanges, state.strict_deviations)
        properties = [("conformance_outcome", outcome.value), *properties[1:]]
        if changed:
            properties.append(("deviation_changed", changed))
    if lost_data:
        # Declared or not, data loss is shown in the banner; only undeclared loss fails the run.
        properties.append(("data_loss", "true"))
    if isinstance(error, BlockedBy):
        properties += [("blocked_step", error.step), ("blocked_by", error.failure.requirement or "")]
        properties.append(("blocked_failure", error.failure.render()[:4000]))
        if isinstance(error.failure, DataLossFailure):
            properties.append(("blocked_data_loss", "true"))
    if isinstance(error, ServerDown):
        properties.append(("server_down", str(error)))
    if outcome is Outcome.BLOCKED and error is not None:
        # The cause is said once, in the summary; each blocked check carries one line, not a traceback.
        report.longrepr = f"{Outcome.BLOCKED.value}: {str(error).splitlines()[0]}"
    if error is not None and not isinstance(error, pytest.skip.Exception):
        properties.append(("conformance_detail", str(error)[:4000]))
    if outcome is Outcome.NON_STRICT:
        detail = str(error).splitlines()[0] if error is not None else ""
        report.outcome = "skipped"
        report.wasxfail = f"{Outcome.NON_STRICT.value} ({level} not met): {detail}"
    report.user_properties.extend(properties)
    item.user_properties.extend(properties)
    return report


def _judge_deviation(
    report: pytest.TestReport,
    deviation: Deviation,
    outcome: Outcome,
    error: BaseException | None,
    exchanges: list[Exchange],
    strict_deviations: bool,
) -> tuple[Outcome, str | None]:
    """A declared deviation covers only the failure it declares; a pass under it is FIXED. Returns the outcome and,
    when the check failed otherwise than declared, what changed."""
    if outcome is Outcome.PASS:
        if strict_deviations:
            report.outcome = "failed"
            report.longrepr = (
                f"{Outcome.FIXED.value}: declared as a deviation ({deviation.reason.splitlines()[0][:200]}) "
                "but the server now meets the requirement; remove the entry (--dicomweb-strict-deviations)"
            )
        return Outcome.FIXED, None
    if outcome not in (Outcome.FAIL, Outcome.NON_STRICT):
        return outcome, None
    last = exchanges[-1] if exchanges else None
    if isinstance(error, ConformanceFailure):
        found = failure_signature(error, last)
        if deviation.covers(found):
            since = f" (since {deviation.since})" if deviation.since else ""
            report.outcome = "skipped"
            report.wasxfail = f"{Outcome.KNOWN_DEVIATION.value}: {deviation.reason}{since}"
            return Outcome.KNOWN_DEVIATION, None
        actual = str(found)
    else:
        actual = f"{type(error).__name__} (not a conformance failure)"
    changed = f"deviation changed: declared {deviation.declared_failure}, got {actual}"
    report.outcome = "failed"
    report.longrepr = f"{changed}\n{report.longrepr}"
    return Outcome.FAIL, changed


def _redact_report(report: pytest.TestReport) -> None:
    """Second line of defence: no secret the run knows of survives in a failure text or a captured section."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        redacted = REDACTOR.text(text)
        if redacted != text:
            report.longrepr = redacted
    report.sections = [(title, REDACTOR.text(content)) for title, content in report.sections]


def classify(
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    level: str,
    *,
    strict_should: bool,
    not_applicable: bool = False,
) -> Outcome | None:
    """The conformance outcome of one phase report, or None when the phase says nothing new. `not_applicable`: the
    plugin found at collection that the target does not claim what the check needs (its skip marker)."""
    if report.skipped:
        error = call.excinfo.value if call.excinfo is not None else None
        if not_applicable or isinstance(error, NotApplicable):
            return Outcome.NOT_APPLICABLE
        return Outcome.UNTESTABLE  # Untestable, or any other skip: a precondition is missing
    if report.failed:
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, ServerDown):
            # The request the server did not survive fails its check; what comes after is blocked.
            return Outcome.FAIL if error.on_this_request and report.when == "call" else Outcome.BLOCKED
        if isinstance(error, BlockedBy):
            return Outcome.BLOCKED
        if report.when == "call" and isinstance(error, AssertionError):
            # ConformanceFailure is an AssertionError; a bare assert in a check is a verdict too.
            return Outcome.NON_STRICT if level != "SHALL" and not strict_should else Outcome.FAIL
        return Outcome.SUITE_ERROR
    if report.when == "call":
        return Outcome.PASS
    return None
