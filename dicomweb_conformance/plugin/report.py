"""The outputs: the terminal summary, conformance.json, the conformance page and statement, pytest-html's columns."""

from __future__ import annotations

import html
import json
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dicomweb_conformance import __version__
from dicomweb_conformance.checks.declined import declined_lines
from dicomweb_conformance.config.catalog import Outcome, failing_outcomes
from dicomweb_conformance.plugin.gate import GATE_PLUGIN, BaselineGate
from dicomweb_conformance.plugin.options import client_selection
from dicomweb_conformance.plugin.state import RunState
from dicomweb_conformance.reporting import compatibility, results, statement
from dicomweb_conformance.reporting import html as conformance_page
from dicomweb_conformance.transport import timings

TIMINGS_KEY = "dicomweb_timings"


def _properties(report: pytest.TestReport) -> dict[str, str]:
    return {str(name): str(value) for name, value in report.user_properties}


def _message(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail)
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    if report.failed:
        return str(report.longrepr)[-2000:]
    return ""


def reports_dir(config: pytest.Config) -> Path:
    """--dicomweb-reports, else reports/ under the rootdir."""
    return Path(config.getoption("dicomweb_reports") or Path(config.rootpath) / "reports")


class ConformanceReport:
    """Collects each check's outcome and writes the summary and JSON; under xdist the controller alone does, from
    the reports the workers forward (a worker only hands over what it measured)."""

    def __init__(self, state: RunState, *, on_worker: bool = False):
        self.state = state
        self.on_worker = on_worker
        self.outcomes: dict[str, dict[str, Any]] = {}
        # Set-up steps the server broke: each FAILs its own requirement and blocks the checks that needed it.
        self.setup_failures: dict[str, dict[str, Any]] = {}
        self.server_down: str | None = None
        # What the conformance page shows of each check's exchanges (never written to the JSON).
        self.exchanges: dict[str, str] = {}
        self.durations: defaultdict[str, float] = defaultdict(float)
        self.started = datetime.now(UTC)
        self.clock = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.on_worker:
            return
        self.durations[report.nodeid] += report.duration
        properties = _properties(report)
        if "conformance_outcome" not in properties:
            return
        entry = self.outcomes.setdefault(report.nodeid, {})
        previous = entry.get("outcome")
        outcome = properties["conformance_outcome"]
        # A teardown error after a pass still spoils the verdict; otherwise the first verdict stands.
        if previous is not None and not (previous == Outcome.PASS.value and outcome == Outcome.SUITE_ERROR.value):
            return
        if "blocked_step" in properties:
            step = self.setup_failures.setdefault(
                properties["blocked_step"],
                {
                    "requirement": properties["blocked_by"],
                    "outcome": Outcome.FAIL.value,
                    "message": properties.get("blocked_failure", ""),
                    "data_loss": bool(properties.get("blocked_data_loss")),
                    "blocked_checks": [],
                },
            )
            step["blocked_checks"].append(report.nodeid)
        if "server_down" in properties and self.server_down is None:
            self.server_down = properties["server_down"]
        entry.update(
            outcome=outcome,
            requirement=properties.get("requirement", ""),
            feature=properties.get("feature", ""),
            level=properties.get("level", ""),
            message=properties.get("conformance_detail") or _message(report),
        )
        entry.update({key: properties[key] for key in ("failure", "deviation_changed") if key in properties})
        if properties.get("failure_status", "").isdigit():
            entry["status"] = int(properties["failure_status"])
        if properties.get("data_loss"):
            entry["data_loss"] = "true"
        if outcome == Outcome.KNOWN_DEVIATION.value and hasattr(report, "wasxfail"):
            entry["deviation_reason"] = str(report.wasxfail).removeprefix(f"{Outcome.KNOWN_DEVIATION.value}: ")
        section = next((text for title, text in report.sections if title == "DICOMweb exchanges"), "")
        # A declared failure whose message names its exchange (and how to reproduce it) needs no excerpt besides.
        named = outcome == Outcome.KNOWN_DEVIATION.value and "\n  exchange: " in entry["message"]
        if section and not named:
            base_url = self.state.target.base_url
            self.exchanges[report.nodeid] = conformance_page.exchange_excerpt(section, outcome, base_url)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """On an xdist worker: hand what it measured to the controller."""
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[TIMINGS_KEY] = json.dumps(self.state.client.timings.raw())

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """On the xdist controller: a worker's measurements join the run's."""
        raw = getattr(node, "workeroutput", {}).get(TIMINGS_KEY)
        if raw:
            self.state.client.timings.merge(json.loads(raw))

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if not self.outcomes:
            return
        target = self.state.target
        terminalreporter.section("DICOMweb conformance")
        terminalreporter.write_line(f"target: {target.name} ({target.base_url}), profile {target.profile}")
        terminalreporter.write_line(f"server: {self.state.server.describe()}")
        if self.server_down:
            for line in self.server_down.splitlines():
                terminalreporter.write_line(line, red=True, bold=True)
        for line in self.data_loss_lines():
            terminalreporter.write_line(line, red=True, bold=True)
        for line in self.setup_failure_lines():
            terminalreporter.write_line(line, red=True)
        for line in feature_lines(self.outcomes):
            terminalreporter.write_line(line)
        totals = self.totals()
        terminalreporter.write_line("totals: " + ", ".join(f"{count} {name}" for name, count in sorted(totals.items())))
        not_executed = sum(totals[o.value] for o in (Outcome.NOT_APPLICABLE, Outcome.UNTESTABLE, Outcome.BLOCKED))
        terminalreporter.write_line(f"checks executed: {sum(totals.values()) - not_executed} of {sum(totals.values())}")
        for line in self.fixed_lines():
            terminalreporter.write_line(line, yellow=True)
        for line in declined_lines(self.outcomes):
            terminalreporter.write_line(line, yellow=True)
        for line in timings.lines(self.state.client.timings.summary()):
            terminalreporter.write_line(line)
        clients = self.clients(config)
        chosen = f"{', '.join(clients['chosen']) or 'none'}, {clients['chosen_from']}"
        terminalreporter.write_line(f"client compatibility matrix (clients x user actions; profiles chosen: {chosen}):")
        for line in compatibility.matrix_lines(clients):
            terminalreporter.write_line(line)
        breaks = any(profile["status"] in ("breaks", "cannot tell") for profile in clients["profiles"].values())
        terminalreporter.write_line("client compatibility: " + clients["summary"], bold=True, red=breaks)
        verdict = self.verdict()
        terminalreporter.write_line("verdict: " + verdict, bold=True)
        failing_clients = self.failing_client_outcomes()
        if failing_clients and not verdict.startswith("NOT CONFORMANT"):
            counted = ", ".join(f"{count} {outcome}" for outcome, count in sorted(failing_clients.items()))
            line = f"the run fails all the same: client checks {counted} (client compatibility, above)"
            terminalreporter.write_line(line, red=True, bold=True)
        gate = self._gate(config)
        comparison = gate.comparison(self.outcomes) if gate else None
        if comparison is not None:
            baseline = comparison.as_json()
            terminalreporter.write_line(conformance_page.gate_line(baseline), bold=True, red=comparison.failed)
            for change in [*comparison.regressions, *comparison.expired]:
                terminalreporter.write_line(
                    f"  REGRESSION {change.check}: {change.before} -> {change.after} ({change.why})"
                )
            for change in comparison.improvements:
                terminalreporter.write_line(f"  improved {change.check}: {change.before} -> {change.after}", green=True)
            if comparison.absent:
                terminalreporter.write_line(f"  {len(comparison.absent)} baseline check(s) not in this run")
        paths = self._write_reports(config, comparison.as_json() if comparison else None, gate)
        for name, path in paths.items():
            terminalreporter.write_line(f"{name}: {path}")

    def totals(self) -> Counter[str]:
        return Counter(entry["outcome"] for entry in self.outcomes.values())

    def clients(self, config: pytest.Config) -> dict[str, Any]:
        """The client checks, their own class of outcome: per client and per client and user action."""
        actions = {rid: r.action for rid, r in self.state.catalog.items() if r.action}
        failing = {o.value for o in failing_outcomes(strict_deviations=self.state.strict_deviations)}
        return compatibility.compatibility(self.outcomes, actions, client_selection(config), failing)

    def verdict(self) -> str:
        """The PS3.18 verdict, over the conformance checks (a client check is judged in clients()), and what
        decided it."""
        totals = Counter(
            entry["outcome"] for entry in self.outcomes.values() if not compatibility.is_client_check(entry)
        )
        failing = failing_outcomes(strict_deviations=self.state.strict_deviations)
        deciding = [f"{totals[o.value]} {o.value}" for o in Outcome if o in failing and totals[o.value]]
        if self.server_down:
            deciding.insert(0, "the server stopped answering")
        if deciding:
            return "NOT CONFORMANT: " + ", ".join(deciding)
        deviations = totals[Outcome.KNOWN_DEVIATION.value]
        fixed = totals[Outcome.FIXED.value]
        passed = totals[Outcome.PASS.value]
        decided = (
            f"CONFORMANT EXCEPT THE DECLARED DEVIATIONS: {passed} PASS, {deviations} KNOWN-DEVIATION, 0 FAIL"
            if deviations
            else f"CONFORMANT: {passed} PASS, 0 FAIL"
        )
        return decided + (f", {fixed} FIXED (declared deviations that now pass)" if fixed else "")

    def failing_client_outcomes(self) -> Counter[str]:
        """The client checks whose outcome fails the run: the gate counts them though the PS3.18 verdict does not."""
        failing = {o.value for o in failing_outcomes(strict_deviations=self.state.strict_deviations)}
        return Counter(
            entry["outcome"]
            for entry in self.outcomes.values()
            if compatibility.is_client_check(entry) and entry["outcome"] in failing
        )

    def data_loss_lines(self) -> list[str]:
        lost = [f"  {nodeid} ({entry['outcome']})" for nodeid, entry in self.outcomes.items() if entry.get("data_loss")]
        lost += [f"  set-up: {step}" for step, entry in self.setup_failures.items() if entry["data_loss"]]
        if not lost:
            return []
        banner = f"SILENT DATA LOSS in {len(lost)} check(s): the server answered success but did not keep what was sent"
        return [banner, *sorted(lost)]

    def setup_failure_lines(self) -> list[str]:
        lines = []
        for step, entry in sorted(self.setup_failures.items()):
            first = entry["message"].splitlines()[0] if entry["message"] else ""
            lines.append(
                f"SET-UP FAILED: {step}: {entry['requirement']} FAIL, {len(entry['blocked_checks'])} check(s) BLOCKED"
            )
            lines.append(f"  {first}")
        return lines

    def fixed_lines(self) -> list[str]:
        fixed = sorted(nodeid for nodeid, entry in self.outcomes.items() if entry["outcome"] == Outcome.FIXED.value)
        if not fixed:
            return []
        header = f"FIXED: {len(fixed)} declared deviation(s) now pass; remove them from the target file"
        return [header, *(f"  {nodeid} ({self.outcomes[nodeid]['requirement']})" for nodeid in fixed)]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str]) -> None:
        lines = self.data_loss_lines()
        if lines:
            items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines[1:])
            prefix.append(
                f'<p style="color:#b00;font-size:1.4em;font-weight:bold">{html.escape(lines[0])}</p><ul>{items}</ul>'
            )

    def _gate(self, config: pytest.Config) -> BaselineGate | None:
        gate = config.pluginmanager.get_plugin(GATE_PLUGIN)
        return gate if isinstance(gate, BaselineGate) else None

    def document(self, config: pytest.Config, baseline: dict[str, Any] | None) -> dict[str, Any]:
        """conformance.json, in the shape of reporting/conformance.schema.json."""
        target, server = self.state.target, self.state.server
        facts = results.RunFacts(
            run_id=self.state.run_id,
            suite_version=__version__,
            started=self.started,
            duration_s=time.monotonic() - self.clock,
            target=target.name,
            base_url=target.base_url,
            profile=target.profile,
            auth=target.auth.method,
            target_file=str(target.target_file) if target.target_file else None,
            server={"name": server.name, "version": server.version, "source": server.source},
        )
        catalog = {
            rid: results.RequirementFacts(r.level_for(target.profile), r.source, r.text, r.feature)
            for rid, r in self.state.catalog.items()
        }
        checks = {nodeid: {**entry, "duration_s": self.durations[nodeid]} for nodeid, entry in self.outcomes.items()}
        failing = failing_outcomes(strict_deviations=self.state.strict_deviations)
        conformant = not self.server_down and not any(Outcome(str(c["outcome"])) in failing for c in checks.values())
        return results.conformance_document(
            facts,
            checks,
            catalog,
            verdict=self.verdict(),
            conformant=conformant,
            setup_failures=self.setup_failures,
            server_down=self.server_down,
            baseline=baseline,
            performance=self.state.client.timings.summary(),
            clients=self.clients(config),
        )

    def _write_reports(
        self, config: pytest.Config, baseline: dict[str, Any] | None, gate: BaselineGate | None
    ) -> dict[str, Path]:
        htmlpath = getattr(config.option, "htmlpath", None)
        directory = Path(htmlpath).parent if htmlpath else reports_dir(config)
        directory.mkdir(parents=True, exist_ok=True)
        document = self.document(config, baseline)
        results.validate(document)  # a departure from the documented schema is the suite's own bug: loud
        paths = {
            "conformance JSON": directory / "conformance.json",
            "conformance report": directory / "conformance.html",
            "conformance statement": directory / "conformance-statement.md",
        }
        paths["conformance JSON"].write_text(json.dumps(document, indent=1, sort_keys=True))
        gate_passed = not (gate and baseline and (baseline["regressions"] or baseline["expired"]))
        page = conformance_page.render(document, self.exchanges, self._deviation_rows(), gate_passed=gate_passed)
        paths["conformance report"].write_text(page)
        paths["conformance statement"].write_text(statement.markdown(document))
        written = gate.write(document, directory) if gate else None
        if written is not None:
            paths["baseline written"] = written
        return paths

    def _deviation_rows(self) -> list[conformance_page.DeviationRow]:
        version = self.state.server.version
        return [
            conformance_page.DeviationRow(
                subject=deviation.test or deviation.requirement or "",
                failure=deviation.declared_failure,
                versions=", ".join(deviation.versions) if deviation.versions else "all",
                reason=deviation.reason,
            )
            for deviation in self.state.target.deviations
            if deviation.applies_to(version) and deviation.applies_to_api(self.state.target.api_version)
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="requirement">Requirement</th>')
        cells.insert(2, '<th class="sortable" data-column-type="conformance">Conformance</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        properties = _properties(report)
        cells.insert(1, f'<td class="col-requirement">{html.escape(properties.get("requirement", ""))}</td>')
        cells.insert(2, f'<td class="col-conformance">{html.escape(properties.get("conformance_outcome", ""))}</td>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = "DICOMweb conformance report"


def feature_lines(outcomes: dict[str, dict[str, Any]]) -> list[str]:
    """One line per feature: the worst SHALL outcome (NON-STRICT shows beside it), then the counts."""
    return [
        f"  {row['name']:<28} {row['outcome']:<16} ({', '.join(f'{n} {name}' for name, n in row['counts'].items())})"
        for row in results.feature_rows(outcomes)
    ]
