"""Every check must be able to fail: run the conformance suite through a fault proxy in front of a real
server, break one promise at a time, and require the checks of the broken requirement to report FAIL.

Two servers: Orthanc under the standard profile (the DW-* requirements), and the Azure facade over
Orthanc under the azure profile (the AZ-* requirements and DW-AUTH-001, with a bearer token). For each,
a control run through the proxy with no rule active must report PASS for the same checks, so a FAIL
under a fault is the fault's doing, not the proxy's. Runs are subprocesses of the conformance suite
itself; each writes conformance.json, which is what is asserted on. Runs go two at a time, each on its
own proxy, to fit a two-core machine's time budget.
"""

from __future__ import annotations

import importlib
import json
import os
import queue
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.transport.ledger import read_ledger
from tests.doubles.facade.server import facade_over_fresh_orthanc
from tests.faults.proxy import FaultProxy
from tests.faults.rules import AUTH_TOKEN, FAULTS, REPAIRS, ProxyRule

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ORTHANC_TARGET = Path(__file__).with_name("orthanc-strict.toml")
FACADE_TARGET = PROJECT_ROOT / "targets" / "azure-facade.toml"
PARALLEL_RUNS = 2  # suite subprocesses at once, across both servers: one per core here
RUN_TIMEOUT = 180
NOT_APPLICABLE = "NOT-APPLICABLE"

# Each requirement that applies to Orthanc under the standard profile, and the faults that must break it.
ORTHANC_FAULTS: dict[str, tuple[str, ...]] = {
    "DW-STOW-001": ("stow-status-202", "stow-content-type-json", "stow-body-not-json"),
    "DW-STOW-002": (
        "stow-drops-referenced-sop-sequence",
        "stow-wrong-sop-class",
        "stow-drops-retrieve-url",
        "stow-200-lists-a-failure",
        "wado-instance-flips-a-byte",
    ),
    "DW-STOW-003": ("stow-stores-nothing", "wado-instance-flips-a-byte"),
    "DW-STOW-004": ("stow-study-stores-first-part-only", "stow-study-status-202"),
    "DW-STOW-005": ("stow-stores-nothing", "stow-status-202"),
    "DW-WADO-001": (
        "wado-study-drops-last-part",
        "wado-study-repeats-last-part",
        "wado-study-part-octet-stream",
        "wado-study-part-not-dicom",
        "wado-study-no-boundary",
        "wado-study-truncated",
    ),
    "DW-WADO-002": ("wado-study-flips-a-byte",),
    "DW-WADO-003": ("wado-series-drops-last-part", "wado-series-flips-a-byte"),
    "DW-WADO-004": ("wado-instance-flips-a-byte", "wado-instance-repeats-the-part"),
    "DW-WADO-005": ("wado-instance-flips-a-byte",),
    "DW-WADO-006": (
        "metadata-study-drops-a-dataset",
        "metadata-study-repeats-a-dataset",
        "metadata-study-content-type-json",
    ),
    "DW-WADO-007": ("metadata-series-drops-a-dataset", "metadata-series-adds-another-instance"),
    "DW-WADO-008": (
        "metadata-instance-drops-the-dataset",
        "metadata-instance-adds-another-instance",
        "metadata-instance-names-another-study",
    ),
    "DW-WADO-009": (
        "metadata-lowercase-key",
        "metadata-missing-vr",
        "metadata-keys-out-of-order",
        "metadata-scalar-value",
        "metadata-pn-as-string",
        "metadata-group-length",
    ),
    **{
        requirement: (
            "frames-flips-a-byte",
            "frames-declares-jpeg-baseline",
            "frames-part-type-dicom",
            "frames-repeats-the-part",
        )
        for requirement in ("DW-WADO-010", "DW-WADO-011", "DW-WADO-012")
    },
    "DW-QIDO-001": (
        "qido-studies-drops-the-result",
        "qido-studies-repeats-the-result",
        "qido-studies-text-plain",
        "qido-studies-status-204",
    ),
    "DW-QIDO-002": ("qido-series-drops-the-result", "qido-series-adds-another-series"),
    "DW-QIDO-003": ("qido-study-series-drops-the-result",),
    "DW-QIDO-004": ("qido-instances-repeats-the-result", "qido-instances-text-plain"),
    "DW-QIDO-005": ("qido-study-instances-drops-the-result",),
    "DW-QIDO-006": ("qido-series-instances-drops-the-result",),
    "DW-QIDO-007": ("qido-studies-drops-the-result", "qido-studies-repeats-the-result"),
}

# The requirements only the azure profile adds (the DW-* ones are covered on Orthanc above).
FACADE_FAULTS: dict[str, tuple[str, ...]] = {
    "AZ-STOW-001": ("stow-single-part-415", "stow-single-part-stores-nothing"),
    "AZ-STOW-002": ("stow-duplicate-answers-200", "stow-duplicate-other-failure-reason"),
    "AZ-DEL-001": ("del-instance-204-without-deleting", "del-instance-status-200", "del-instance-deletes-its-series"),
    "AZ-DEL-002": ("del-series-204-without-deleting", "del-series-deletes-its-study"),
    "AZ-DEL-003": ("del-study-204-without-deleting",),
    "AZ-DEL-004": ("del-repeat-answers-204",),
    "AZ-CF-001": ("cf-object-not-array", "cf-content-type-text", "cf-entry-not-object"),
    "AZ-CF-002": ("cf-drops-creates", "cf-names-other-series"),
    "DW-AUTH-001": ("auth-anonymous-gets-in",),
}

# These fail on Orthanc 1.10.1 + DICOMweb 1.7 with no fault at all (the [[deviation]] entries of
# targets/orthanc.toml, left out of the strict target), so a fault alone shows nothing there. Their
# REPAIRS rule hides the deviation: each is seen passing, then failing under a fault on top.
FAILING_WITHOUT_FAULT = frozenset(REPAIRS)

# Faults the suite does not notice: defects of the checks, not of the proxy. Strict xfail, so a fixed
# check turns this module red until its entry is removed.
SUITE_DEFECTS: dict[tuple[str, str], str] = {}


class CheckDidNotFail(AssertionError):
    """A check reported something other than FAIL under a fault meant to break it."""


@dataclass(frozen=True)
class CheckResult:
    outcome: str
    requirement: str
    message: str


@dataclass(frozen=True)
class SuiteRun:
    checks: dict[str, CheckResult]
    hits: dict[str, int]
    proxy_errors: list[str]
    output: str

    def for_requirement(self, requirement: str) -> dict[str, CheckResult]:
        return {node: check for node, check in self.checks.items() if check.requirement == requirement}


@dataclass(frozen=True)
class ServerUnderTest:
    """How to point the suite at one server through a proxy: its target file, root and environment."""

    name: str
    target_file: Path
    root: str
    fault_table: Mapping[str, tuple[str, ...]]
    repairs: Mapping[str, ProxyRule] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    def rules_for(self, requirement: str, fault: str | None) -> tuple[ProxyRule, ...]:
        repairs = (self.repairs[requirement],) if requirement in self.repairs else ()
        return repairs + ((FAULTS[fault],) if fault else ())

    def served_by(self, rules: tuple[ProxyRule, ...], fault: str | None) -> list[str]:
        """The requirements whose checks a run with `rules` judges: all that map to the same rules."""
        return [
            requirement
            for requirement, faults in self.fault_table.items()
            if self.rules_for(requirement, fault) == rules and (fault is None or fault in faults)
        ]


ORTHANC = ServerUnderTest("orthanc", ORTHANC_TARGET, "/dicom-web", ORTHANC_FAULTS, REPAIRS)
FACADE = ServerUnderTest("facade", FACADE_TARGET, "/v2", FACADE_FAULTS, environment={"DICOMWEB_TOKEN": AUTH_TOKEN})


class SuiteRunner:
    """Runs the conformance suite in subprocesses on `pool`, each through an idle proxy with its own rules.

    With as many proxies as the pool has workers, a run never waits for a proxy.
    """

    def __init__(
        self, server: ServerUnderTest, proxies: Sequence[FaultProxy], pool: ThreadPoolExecutor, workdir: Path
    ) -> None:
        self.server = server
        self.workdir = workdir
        self._idle: queue.Queue[FaultProxy] = queue.Queue()
        for proxy in proxies:
            self._idle.put(proxy)
        self._pool = pool
        self._runs: dict[tuple[str, ...], Future[SuiteRun]] = {}

    def submit(self, rules: Sequence[ProxyRule], selection: Sequence[str]) -> Future[SuiteRun]:
        """Start a run unless one with the same rules is known; only the pytest thread calls this."""
        key = tuple(rule.name for rule in rules)
        if key not in self._runs:
            self._runs[key] = self._pool.submit(self._run, tuple(rules), tuple(selection), "+".join(key) or "none")
        return self._runs[key]

    def run(self, rules: Sequence[ProxyRule], selection: Sequence[str]) -> SuiteRun:
        return self.submit(rules, selection).result()

    def wait(self) -> None:
        """Let every started run finish before its proxies and server stop."""
        for run in self._runs.values():
            run.cancel()
        for run in self._runs.values():
            if not run.cancelled():
                run.exception()

    def _run(self, rules: tuple[ProxyRule, ...], selection: tuple[str, ...], label: str) -> SuiteRun:
        proxy = self._idle.get()
        try:
            proxy.switch(rules)
            finished = self._suite(proxy, selection, self.workdir / label)
            return suite_result(proxy, self.workdir / label, finished)
        finally:
            self._idle.put(proxy)

    def _suite(self, proxy: FaultProxy, selection: Sequence[str], outputs: Path) -> subprocess.CompletedProcess[str]:
        # --dicomweb-strict: DW-STOW-005 (MAY) and DW-WADO-005 (SHOULD) fail as FAIL, not NON-STRICT.
        command = [
            *(sys.executable, "-m", "pytest", *selection, "-q", "-p", "no:randomly", "--dicomweb-strict"),
            *("--dicomweb-url", proxy.url + self.server.root, "--dicomweb-target", str(self.server.target_file)),
            f"--html={outputs}/report.html",
            f"--junitxml={outputs}/junit.xml",
            f"--dicomweb-ledger-dir={outputs}/ledger",
        ]
        environment = {name: value for name, value in os.environ.items() if not name.startswith("DICOMWEB_")}
        return subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=environment | dict(self.server.environment),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )


def suite_result(proxy: FaultProxy, outputs: Path, finished: subprocess.CompletedProcess[str]) -> SuiteRun:
    """The outcomes a finished suite run wrote to conformance.json, with what the proxy saw."""
    report = outputs / "conformance.json"
    if not report.exists():
        raise AssertionError(f"the suite wrote no {report}:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}")
    checks = json.loads(report.read_text())["checks"]
    return SuiteRun(
        checks={node: CheckResult(c["outcome"], c["requirement"], c["message"]) for node, c in checks.items()},
        hits=dict(proxy.hits),
        proxy_errors=list(proxy.errors),
        output=finished.stdout[-3000:],
    )


@contextmanager
def proxies_in_front_of(upstream: str) -> Iterator[list[FaultProxy]]:
    with ExitStack() as stack:
        yield [stack.enter_context(FaultProxy(upstream)) for _ in range(PARALLEL_RUNS)]


@contextmanager
def runner_for(
    server: ServerUnderTest, upstream: str, pool: ThreadPoolExecutor, workdir: Path
) -> Iterator[SuiteRunner]:
    with proxies_in_front_of(upstream) as proxies:
        runner = SuiteRunner(server, proxies, pool, workdir)
        try:
            yield runner
        finally:
            runner.wait()


@dataclass(frozen=True)
class Case:
    """One requirement judged in one run: the control run (no rules), a repair alone, or a fault."""

    server: ServerUnderTest
    requirement: str
    fault: str | None = None
    control: bool = False


def selected_cases(session: pytest.Session, server: ServerUnderTest) -> list[Case]:
    """The cases this session will run against `server`, so their runs can start ahead of the tests."""
    cases = []
    for item in session.items:
        params = getattr(item, "callspec", None)
        case = params.params.get("case") if params is not None else None
        if isinstance(case, Case) and case.server is server:
            cases.append(case)
    return cases


class Plan:
    """The control run first (it maps requirements to checks), then every selected case's run, started at once."""

    def __init__(self, runner: SuiteRunner, cases: Sequence[Case]) -> None:
        self.runner = runner
        self.control = runner.run((), ["suites"])
        for case in cases:
            self.submit(case)

    def nodes_of(self, requirements: Sequence[str]) -> list[str]:
        return sorted(node for node, check in self.control.checks.items() if check.requirement in requirements)

    def submit(self, case: Case) -> Future[SuiteRun]:
        rules = () if case.control else case.server.rules_for(case.requirement, case.fault)
        if not rules:
            return self.runner.submit((), ["suites"])
        return self.runner.submit(rules, self.nodes_of(case.server.served_by(rules, case.fault)))

    def result(self, case: Case) -> SuiteRun:
        return self.submit(case).result()


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS, thread_name_prefix="suite-run") as executor:
        yield executor


@pytest.fixture(scope="module")
def orthanc_plan(
    request: pytest.FixtureRequest, pool: ThreadPoolExecutor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Plan]:
    with OrthancServer() as orthanc:
        with runner_for(ORTHANC, orthanc.rest_url, pool, tmp_path_factory.mktemp("orthanc")) as runner:
            yield Plan(runner, selected_cases(request.session, ORTHANC))
        assert_nothing_left(orthanc)


def sweep_declared_leftovers(orthanc: OrthancServer, outputs: Path) -> int:
    """Remove, behind the server's back, what runs said they could not remove (their kept ledgers): a fault that
    makes DELETE lie leaves data the run must name, not data it must delete. Returns how many entries."""
    swept = 0
    for path in outputs.rglob("*.jsonl"):
        ledger = read_ledger(path)
        for entry in ledger.entries if ledger else []:
            found = requests.post(f"{orthanc.rest_url}/tools/lookup", data=entry.sop, timeout=30)
            for resource in found.json() if found.status_code == 200 else []:
                requests.delete(f"{orthanc.rest_url}{resource['Path']}", timeout=30)
            swept += 1
    return swept


def assert_nothing_left(orthanc: OrthancServer) -> None:
    """Whatever the faults made the server answer, every run removed all it stored or named what it could not
    (issue 8, item 8)."""
    left = requests.get(f"{orthanc.rest_url}/instances", timeout=30).json()
    patients = requests.get(f"{orthanc.rest_url}/patients", params={"expand": "true"}, timeout=30).json()
    whose = sorted(str(patient["MainDicomTags"].get("PatientID")) for patient in patients)
    assert left == [], f"{len(left)} instance(s) stored by the suite runs are still on Orthanc, of {whose[:10]}"


@pytest.fixture(scope="module")
def facade_plan(
    request: pytest.FixtureRequest, pool: ThreadPoolExecutor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Plan]:
    with (
        facade_over_fresh_orthanc(tokens={AUTH_TOKEN}) as facade,
        runner_for(FACADE, facade.base_url, pool, tmp_path_factory.mktemp("facade")) as runner,
    ):
        yield Plan(runner, selected_cases(request.session, FACADE))


@pytest.fixture
def plan(request: pytest.FixtureRequest, case: Case) -> Plan:
    return request.getfixturevalue(f"{case.server.name}_plan")  # type: ignore[no-any-return]


def describe(checks: dict[str, CheckResult]) -> str:
    return "\n".join(f"{node}: {check.outcome}\n    {check.message[:600]}" for node, check in checks.items())


def outcomes_of(run: SuiteRun, requirement: str) -> set[str]:
    checks = run.for_requirement(requirement)
    assert checks, f"no check of {requirement} ran:\n{run.output}"
    assert not run.proxy_errors, f"a proxy rule raised: {run.proxy_errors}"
    return {check.outcome for check in checks.values()}


def control_case(server: ServerUnderTest, requirement: str) -> ParameterSet:
    return pytest.param(Case(server, requirement, control=True), id=f"{server.name}:{requirement}")


def repaired_case(requirement: str) -> ParameterSet:
    return pytest.param(Case(ORTHANC, requirement), id=f"{ORTHANC.name}:{requirement}")


def fault_case(server: ServerUnderTest, requirement: str, fault: str) -> ParameterSet:
    defect = SUITE_DEFECTS.get((requirement, fault))
    marks = [pytest.mark.xfail(reason=f"suite defect: {defect}", raises=CheckDidNotFail, strict=True)] if defect else []
    return pytest.param(Case(server, requirement, fault), id=f"{server.name}:{requirement}:{fault}", marks=marks)


CONTROL_CASES = [control_case(server, r) for server in (ORTHANC, FACADE) for r in sorted(server.fault_table)]
REPAIRED_CASES = [repaired_case(requirement) for requirement in sorted(FAILING_WITHOUT_FAULT)]
FAULT_CASES = [
    fault_case(server, requirement, fault)
    for server in (ORTHANC, FACADE)
    for requirement, faults in sorted(server.fault_table.items())
    for fault in faults
]


@pytest.mark.parametrize("server", [ORTHANC, FACADE], ids=lambda server: server.name)
def test_every_applicable_requirement_has_faults(request: pytest.FixtureRequest, server: ServerUnderTest) -> None:
    control: SuiteRun = request.getfixturevalue(f"{server.name}_plan").control
    applicable = {check.requirement for check in control.checks.values() if check.outcome != NOT_APPLICABLE}
    covered_on_orthanc = set(ORTHANC_FAULTS) if server is FACADE else set()
    covered_by_areas = area_fault_tables(server, control)
    without_faults = sorted(applicable - covered_on_orthanc - covered_by_areas - set(server.fault_table))
    assert not without_faults, f"requirements with checks but no fault that must break them: {without_faults}"
    not_applicable = sorted(set(server.fault_table) - applicable)
    assert not not_applicable, f"the fault table names requirements that do not apply: {not_applicable}"
    unknown = {fault for faults in server.fault_table.values() for fault in faults} - set(FAULTS)
    assert not unknown, f"the fault table names faults rules.py does not define: {sorted(unknown)}"


def area_fault_tables(server: ServerUnderTest, control: SuiteRun) -> set[str]:
    """Requirements covered by the per-area fault modules (test_<area>_checks_fail.py). Their tables are
    keyed by requirement (ORTHANC_CASES / ORTHANC_FAULTS, FACADE_...) or by test name (ORTHANC_CHECKS /
    FACADE_CHECKS); a test name covers the requirement its checks carry in the control run."""
    prefixes = ("ORTHANC", "FACADE") if server is FACADE else ("ORTHANC",)
    covered: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("test_*_checks_fail.py")):
        module = importlib.import_module(f"tests.faults.{path.stem}")
        for prefix in prefixes:
            covered |= set(getattr(module, f"{prefix}_CASES", {})) | set(getattr(module, f"{prefix}_FAULTS", {}))
            per_test = set(getattr(module, f"{prefix}_CHECKS", {}))
            covered |= {
                check.requirement
                for nodeid, check in control.checks.items()
                if nodeid.split("::")[-1] in per_test or nodeid.split("::")[-1].split("[")[0] in per_test
            }
    return covered


@pytest.mark.parametrize("case", CONTROL_CASES)
def test_control_run_without_rules(plan: Plan, case: Case) -> None:
    """PASS through the transparent proxy, except the deviations Orthanc shows anyway: those FAIL."""
    expected = "FAIL" if case.server is ORTHANC and case.requirement in FAILING_WITHOUT_FAULT else "PASS"
    checks = plan.control.for_requirement(case.requirement)
    assert outcomes_of(plan.control, case.requirement) == {expected}, describe(checks)


@pytest.mark.parametrize("case", REPAIRED_CASES)
def test_repaired_deviation_passes(plan: Plan, case: Case) -> None:
    """With its deviation hidden by the proxy, the check passes: it is not a check that always fails."""
    run = plan.result(case)
    assert outcomes_of(run, case.requirement) == {"PASS"}, describe(run.for_requirement(case.requirement))


@pytest.mark.parametrize("case", FAULT_CASES)
def test_fault_makes_the_check_fail(plan: Plan, case: Case) -> None:
    run = plan.result(case)
    outcomes = outcomes_of(run, case.requirement)
    assert case.fault is not None
    assert run.hits.get(case.fault, 0) > 0, f"fault {case.fault} never matched a request:\n{run.output}"
    if outcomes != {"FAIL"}:
        raise CheckDidNotFail(describe(run.for_requirement(case.requirement)))
