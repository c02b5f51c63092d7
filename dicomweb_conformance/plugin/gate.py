"""Regression-only gating (a pytest plugin): --dicomweb-baseline FILE fails the run only on what got worse.

Each check is judged against its baseline entry as its report is made (on xdist workers too): a failure the
baseline already has is shown as an expected failure ("BASELINE: ..."), like a declared deviation; a regression
fails, even where the check itself would not (a check that ran and now does not). Its conformance outcome is never
changed: conformance.json and the verdict still say FAIL where the server fails.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from datetime import date
from pathlib import Path

import pytest

from dicomweb_conformance.plugin.state import RUN_STATE
from dicomweb_conformance.reporting.baseline import (
    Baseline,
    BaselineError,
    Change,
    CheckResult,
    Comparison,
    baseline_document,
    compare,
    judge,
    load_baseline,
    result_of,
)

GATE_PLUGIN = "dicomweb-baseline-gate"
DEFAULT_BASELINE = "baseline.json"  # under the reports directory, when --dicomweb-baseline-update names no file


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dicomweb", "DICOMweb conformance")
    group.addoption(
        "--dicomweb-baseline",
        default=None,
        metavar="FILE",
        help="an earlier run's conformance.json or baseline file: fail only on regressions against it",
    )
    group.addoption(
        "--dicomweb-baseline-update",
        action="store_true",
        help="write the baseline (--dicomweb-baseline FILE, else reports/baseline.json) from this run; "
        "what the server does now is accepted, only SUITE-ERROR fails",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if RUN_STATE not in config.stash:
        return
    path = config.getoption("dicomweb_baseline")
    updating = bool(config.getoption("dicomweb_baseline_update"))
    if path is None and not updating:
        return
    baseline = None
    if path is not None and (not updating or Path(path).exists()):
        try:
            baseline = load_baseline(Path(path))
        except BaselineError as error:
            raise pytest.UsageError(str(error)) from None
    config.pluginmanager.register(BaselineGate(baseline, updating, path), GATE_PLUGIN)


def status_of(properties: Mapping[str, str]) -> int | None:
    value = properties.get("failure_status", "")
    return int(value) if value.isdigit() else None


class BaselineGate:
    def __init__(self, baseline: Baseline | None, updating: bool, path: str | None):
        self.baseline = baseline
        self.updating = updating
        self.path = path

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        properties = {str(name): str(value) for name, value in report.user_properties}
        outcome = properties.get("conformance_outcome")
        if outcome is None:
            return report
        now = CheckResult(outcome, properties.get("requirement", ""), status_of(properties), "data_loss" in properties)
        if self.updating:
            verdict: Change | bool | None = None if outcome != "SUITE-ERROR" else Change(item.nodeid, "", outcome, "")
        else:
            assert self.baseline is not None
            verdict = judge(item.nodeid, self.baseline.entries.get(item.nodeid), now, date.today())
        if isinstance(verdict, Change):
            if not report.failed:
                report.outcome = "failed"
                report.longrepr = f"REGRESSION against the baseline: {verdict.before} -> {verdict.after}: {verdict.why}"
                if hasattr(report, "wasxfail"):
                    del report.wasxfail
            report.user_properties.append(("baseline", f"regression: {verdict.why}"))
        elif report.failed and outcome != "SUITE-ERROR":
            where = "recorded as the new baseline" if self.updating else f"as in the baseline {self.path}"
            report.outcome = "skipped"
            report.wasxfail = f"BASELINE: {outcome} {where}"
            report.user_properties.append(("baseline", "accepted"))
        return report

    def comparison(self, checks: Mapping[str, Mapping[str, object]]) -> Comparison | None:
        """This run against the baseline, for the summary and the reports (None while writing a first baseline)."""
        if self.baseline is None or self.updating:
            return None
        results = {nodeid: result_of(check) for nodeid, check in checks.items()}
        return compare(self.baseline, results, date.today())

    def write(self, conformance: Mapping[str, object], reports: Path) -> Path | None:
        if not self.updating:
            return None
        path = Path(self.path) if self.path else reports / DEFAULT_BASELINE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(baseline_document(conformance, self.baseline), indent=1) + "\n")
        return path
