"""Every Azure check can fail: the conformance suite runs against the Azure facade through FaultProxy,
one fault of tests/faults/rules_azure.py at a time, and the checks of each requirement the fault breaks
must report FAIL. Control runs through the same proxies with no rule active must report PASS (or
NOT-APPLICABLE under the other API version), so a FAIL is the fault's doing.

Two lanes run suites side by side, each a facade with its own change feed over one Orthanc, behind
its own proxy: checks of /changefeed/latest see no other writer in their lane.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from dicomweb_conformance.config.catalog import LATEST_API_VERSION, load_catalog
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.paths import CATALOG_DIR
from tests.doubles.facade.changefeed import SequenceGap
from tests.doubles.facade.server import AzureFacade
from tests.faults.proxy import FaultProxy, Rule
from tests.faults.rules_azure import (
    AZURE_FAULT_TABLE,
    AZURE_FAULTS,
    EXPIRED_TOKEN,
    TUTORIAL_DELETE_FAULTS,
    VALID_TOKEN,
)
from tests.faults.test_every_check_can_fail import (
    SuiteRun,
    assert_nothing_left,
    describe,
    suite_result,
    sweep_declared_leftovers,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FACADE_TARGET = PROJECT_ROOT / "targets" / "azure-facade.toml"
# The facade answers synchronously, so a fault run need not wait 10 s for a 204 delete that did nothing.
FAULT_VISIBILITY_TIMEOUT = 2
SUITE_FILES = (
    "suites/delete/test_delete_tutorial.py::test_delete_instance",
    "suites/delete/test_delete_tutorial.py::test_delete_series",
    "suites/delete/test_delete_tutorial.py::test_delete_study",
    "suites/delete/test_delete_scenarios.py",
    "suites/changefeed/test_changefeed_paging.py",
    "suites/changefeed/test_changefeed_states.py",
    "suites/changefeed/test_changefeed_errors.py",
    "suites/auth/test_auth_azure.py",
    "suites/metadata_etag/test_metadata_etag.py",
)
# What tests/faults/test_every_check_can_fail.py looks for in a test_<area>_checks_fail.py module: the
# requirements whose checks this module makes fail on the facade.
FACADE_FAULTS = AZURE_FAULT_TABLE
VERSIONS = ("v1", "v2")
LANES = 2  # suite subprocesses at once: one per core here
RUN_TIMEOUT = 240


def version_of(requirement: str, restrictions: dict[str, tuple[str, ...]]) -> str:
    """The API version a requirement's fault runs use: its own, or the latest."""
    return (restrictions.get(requirement) or (LATEST_API_VERSION,))[0]


def fast_target(workdir: Path) -> Path:
    """targets/azure-facade.toml with a shorter visibility timeout."""
    text = FACADE_TARGET.read_text()
    assert "visibility_timeout = 5" in text, "targets/azure-facade.toml changed its timing; update this copy"
    target = workdir / "azure-facade-fast.toml"
    target.write_text(text.replace("visibility_timeout = 5", f"visibility_timeout = {FAULT_VISIBILITY_TIMEOUT}"))
    return target


def azure_requirements() -> set[str]:
    """The requirements this module judges: azure.toml's and the tutorial's deletes."""
    with (CATALOG_DIR / "azure.toml").open("rb") as handle:
        return set(tomllib.load(handle)) | set(TUTORIAL_DELETE_FAULTS)


class Runner:
    """Runs suite subprocesses through idle lanes (a proxy in front of a facade), LANES at a time."""

    def __init__(self, lanes: Sequence[FaultProxy], workdir: Path) -> None:
        self.workdir = workdir
        self.target = fast_target(workdir)
        self._idle: queue.Queue[FaultProxy] = queue.Queue()
        for lane in lanes:
            self._idle.put(lane)
        self._pool = ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="azure-fault-run")
        self._runs: dict[tuple[str, tuple[str, ...]], Future[SuiteRun]] = {}

    def submit(self, version: str, rules: Sequence[Rule], selection: Sequence[str]) -> Future[SuiteRun]:
        key = (version, tuple(rule.name for rule in rules))
        if key not in self._runs:
            label = f"{version}-{'+'.join(key[1]) or 'control'}"
            self._runs[key] = self._pool.submit(self._run, version, tuple(rules), tuple(selection), label)
        return self._runs[key]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, version: str, rules: tuple[Rule, ...], selection: tuple[str, ...], label: str) -> SuiteRun:
        proxy = self._idle.get()
        try:
            proxy.switch(rules)
            outputs = self.workdir / label
            finished = subprocess.run(
                self._command(proxy, version, selection, outputs),
                cwd=PROJECT_ROOT,
                env=self._environment(),
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
            )
            return suite_result(proxy, outputs, finished)
        finally:
            self._idle.put(proxy)

    def _command(self, proxy: FaultProxy, version: str, selection: Sequence[str], outputs: Path) -> list[str]:
        # --dicomweb-strict: the SHOULD checks (AZ-AUTH-003, -005) report FAIL, not NON-STRICT, under a fault.
        return [
            *(sys.executable, "-m", "pytest", *selection, "-q", "-p", "no:randomly", "--dicomweb-strict"),
            *("--dicomweb-url", f"{proxy.url}/{version}", "--dicomweb-target", str(self.target)),
            f"--html={outputs}/report.html",
            f"--junitxml={outputs}/junit.xml",
            f"--dicomweb-ledger-dir={outputs}/ledger",
        ]

    @staticmethod
    def _environment() -> dict[str, str]:
        environment = {name: value for name, value in os.environ.items() if not name.startswith("DICOMWEB_")}
        return environment | {"DICOMWEB_TOKEN": VALID_TOKEN, "DICOMWEB_EXPIRED_TOKEN": EXPIRED_TOKEN}


@dataclass(frozen=True)
class Case:
    requirement: str
    fault: str


CASES = [Case(requirement, fault) for requirement, faults in sorted(AZURE_FAULT_TABLE.items()) for fault in faults]


class Plan:
    """The control runs first (they map requirements to checks), then every fault run, all submitted at once."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.restrictions = {key: r.api_versions for key, r in load_catalog().items() if r.api_versions}
        controls = {version: runner.submit(version, (), SUITE_FILES) for version in VERSIONS}
        self.controls = {version: future.result() for version, future in controls.items()}
        for case in CASES:
            self.submit(case)

    def nodes_for(self, version: str, fault: str) -> list[str]:
        """The checks of every requirement, run under `version`, that this fault must break."""
        served = {
            requirement
            for requirement, faults in AZURE_FAULT_TABLE.items()
            if fault in faults and version_of(requirement, self.restrictions) == version
        }
        return sorted(node for node, check in self.controls[version].checks.items() if check.requirement in served)

    def submit(self, case: Case) -> Future[SuiteRun]:
        version = version_of(case.requirement, self.restrictions)
        return self.runner.submit(version, [AZURE_FAULTS[case.fault]], self.nodes_for(version, case.fault))


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plan]:
    with ExitStack() as stack:
        orthanc = stack.enter_context(OrthancServer())
        # Sequence gaps as Azure's identity column makes them: v1 readers must read past empty pages.
        gap = SequenceGap(every=25, size=150)
        facades = [
            stack.enter_context(AzureFacade(orthanc.rest_url, tokens={VALID_TOKEN}, sequence_gap=gap))
            for _ in range(LANES)
        ]
        proxies = [stack.enter_context(FaultProxy(facade.base_url)) for facade in facades]
        runner = Runner(proxies, tmp_path_factory.mktemp("azure-faults"))
        try:
            yield Plan(runner)
        finally:
            runner.close()
        sweep_declared_leftovers(orthanc, runner.workdir)
        assert_nothing_left(orthanc)


def test_every_azure_requirement_has_faults() -> None:
    assert set(AZURE_FAULT_TABLE) == azure_requirements(), "the fault table must name every requirement of azure.toml"
    unknown = {fault for faults in AZURE_FAULT_TABLE.values() for fault in faults} - set(AZURE_FAULTS)
    assert not unknown, f"faults rules_azure.py does not define: {sorted(unknown)}"


@pytest.mark.parametrize("version", VERSIONS)
def test_control_run_passes(plan: Plan, version: str) -> None:
    """Through the transparent proxy every check passes, or is NOT-APPLICABLE under the other API version."""
    run = plan.controls[version]
    expected = {
        node: "PASS" if version in plan.restrictions.get(check.requirement, VERSIONS) else "NOT-APPLICABLE"
        for node, check in run.checks.items()
    }
    actual = {node: check.outcome for node, check in run.checks.items()}
    assert actual == expected, describe({n: c for n, c in run.checks.items() if c.outcome != expected[n]})
    assert not run.proxy_errors
    assert {check.requirement for check in run.checks.values()} == azure_requirements()


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.requirement}:{case.fault}")
def test_the_fault_makes_the_checks_fail(plan: Plan, case: Case) -> None:
    """Every check of the requirement reports FAIL while the fault is active."""
    run = plan.submit(case).result()
    assert not run.proxy_errors, f"a proxy rule raised: {run.proxy_errors}"
    assert run.hits.get(case.fault, 0) > 0, f"the fault {case.fault} never matched a request:\n{run.output}"
    checks = run.for_requirement(case.requirement)
    assert checks, f"no check of {case.requirement} ran:\n{run.output}"
    assert {check.outcome for check in checks.values()} == {"FAIL"}, describe(checks)
