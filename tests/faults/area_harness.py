"""What the per-area fault modules (test_<area>_checks_fail.py) share: a module-scoped pool, a suite runner per
server (a fresh Orthanc, or the Azure facade over one, behind PARALLEL_RUNS fault proxies), and for the modules
that judge their checks from tables of expectations per server, the cases, their plan and the tests themselves.

A module keeps its tables and rules and binds what this module makes to its own names, which pytest collects:

    suite_pool = suite_pool_fixture("wado")
    orthanc_plan = WADO.plan_fixture("orthanc")
    ...
    test_control = WADO.control_test()

Every run is a subprocess of the conformance suite, through the runner, proxy and outcome helpers of
test_every_check_can_fail.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import pytest

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.doubles.facade.server import facade_over_fresh_orthanc
from tests.faults.rules import AUTH_TOKEN, ProxyRule
from tests.faults.test_every_check_can_fail import (
    FACADE_TARGET,
    NOT_APPLICABLE,
    ORTHANC_TARGET,
    PARALLEL_RUNS,
    CheckResult,
    ServerUnderTest,
    SuiteRun,
    SuiteRunner,
    assert_nothing_left,
    describe,
    outcomes_of,
    runner_for,
)

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

TargetCopy = Callable[[Path, Path], Path]
"""Writes the target file a run uses (from the server's own, to a destination) and returns its path."""

SERVER_TARGETS: dict[str, Path] = {"orthanc": ORTHANC_TARGET, "facade": FACADE_TARGET}


def without_deviations(target: Path, destination: Path) -> Path:
    """`target` without its [[deviation]] entries: every check reports its plain verdict."""
    destination.write_text(target.read_text().split("\n[[deviation]]")[0])
    return destination


@contextmanager
def orthanc_runner(target: Path, pool: ThreadPoolExecutor, workdir: Path) -> Iterator[SuiteRunner]:
    server = ServerUnderTest("orthanc", target, "/dicom-web", {})
    with OrthancServer() as orthanc:
        with runner_for(server, orthanc.rest_url, pool, workdir) as runner:
            yield runner
        assert_nothing_left(orthanc)


@contextmanager
def facade_runner(target: Path, pool: ThreadPoolExecutor, workdir: Path) -> Iterator[SuiteRunner]:
    server = ServerUnderTest("facade", target, "/v2", {}, environment={"DICOMWEB_TOKEN": AUTH_TOKEN})
    with (
        facade_over_fresh_orthanc(tokens={AUTH_TOKEN}) as facade,
        runner_for(server, facade.base_url, pool, workdir) as runner,
    ):
        yield runner


SERVER_RUNNERS: dict[str, Callable[[Path, ThreadPoolExecutor, Path], AbstractContextManager[SuiteRunner]]] = {
    "orthanc": orthanc_runner,
    "facade": facade_runner,
}


class ServerCase(Protocol):
    @property
    def server(self) -> str: ...


CaseT = TypeVar("CaseT", bound=ServerCase)


def cases_of(session: pytest.Session, case_type: type[CaseT], server: str) -> list[CaseT]:
    """The `case` parameters of this session's tests against `server`, so their runs can start ahead."""
    found = [getattr(item, "callspec", None) for item in session.items]
    cases = [spec.params.get("case") for spec in found if spec is not None]
    return [case for case in cases if isinstance(case, case_type) and case.server == server]


def suite_pool_fixture(area: str) -> object:
    """The module's `suite_pool` fixture: PARALLEL_RUNS suite runs at once, across both servers."""

    @pytest.fixture(scope="module", name="suite_pool")
    def suite_pool() -> Iterator[ThreadPoolExecutor]:
        with ThreadPoolExecutor(max_workers=PARALLEL_RUNS, thread_name_prefix=f"{area}-suite-run") as executor:
            yield executor

    return suite_pool


def server_plan_fixture(
    area: str,
    server: str,
    target_copy: TargetCopy,
    open_plan: Callable[[str, SuiteRunner, pytest.Session], object],
    prefix: str = "",
) -> object:
    """The module's `<prefix><server>_plan` fixture: the server started, its runner, and the plan `open_plan` makes.
    A prefix tells apart the plans of two areas in one module."""

    @pytest.fixture(scope="module", name=f"{prefix}{server}_plan")
    def server_plan(
        request: pytest.FixtureRequest, suite_pool: ThreadPoolExecutor, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[object]:
        workdir = tmp_path_factory.mktemp(f"{area}-{server}")
        target = target_copy(SERVER_TARGETS[server], workdir / "target.toml")
        with SERVER_RUNNERS[server](target, suite_pool, workdir) as runner:
            yield open_plan(server, runner, request.session)

    return server_plan


class Expectation(Protocol):
    """How one table entry (a requirement, or one check) is seen failing and passing on one server."""

    @property
    def faults(self) -> tuple[str, ...]: ...

    @property
    def repair(self) -> str | None: ...

    @property
    def fails_without_rules(self) -> bool: ...

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]: ...


class Keying(Protocol):
    """What a table key names, and how its checks are judged."""

    not_applicable_message: str

    def key_of(self, node: str, check: CheckResult) -> str: ...

    def assert_control(self, run: SuiteRun, key: str, fails_without_rules: bool) -> None: ...

    def assert_outcome(self, run: SuiteRun, key: str, expected: str) -> None: ...

    def uncovered_message(self, area: str, server: str, uncovered: list[str]) -> str: ...


class ByRequirement:
    """Table keys are requirements: all the checks of one are judged together."""

    not_applicable_message = "the table names requirements that do not apply here"

    def key_of(self, node: str, check: CheckResult) -> str:
        return check.requirement

    def assert_control(self, run: SuiteRun, key: str, fails_without_rules: bool) -> None:
        outcomes = outcomes_of(run, key)
        checks = describe(run.for_requirement(key))
        if fails_without_rules:
            assert "FAIL" in outcomes, f"the deviation no longer shows:\n{checks}"
        else:
            assert outcomes == {"PASS"}, checks

    def assert_outcome(self, run: SuiteRun, key: str, expected: str) -> None:
        assert outcomes_of(run, key) == {expected}, describe(run.for_requirement(key))

    def uncovered_message(self, area: str, server: str, uncovered: list[str]) -> str:
        return f"{area} requirements with checks but no case on {server}: {uncovered}"


class ByCheckName:
    """Table keys are check names (test function[parameter]), for checks of one requirement that one server
    treats differently."""

    not_applicable_message = "the table names checks that do not apply here"

    def key_of(self, node: str, check: CheckResult) -> str:
        return node.split("::")[-1]

    def assert_control(self, run: SuiteRun, key: str, fails_without_rules: bool) -> None:
        self.assert_outcome(run, key, "FAIL" if fails_without_rules else "PASS")

    def assert_outcome(self, run: SuiteRun, key: str, expected: str) -> None:
        outcome, shown = self.outcome_of(run, key)
        assert outcome == expected, shown

    def uncovered_message(self, area: str, server: str, uncovered: list[str]) -> str:
        return f"{area} checks with no case on {server}: {uncovered}"

    def outcome_of(self, run: SuiteRun, check: str) -> tuple[str, str]:
        found = {node: result for node, result in run.checks.items() if self.key_of(node, result) == check}
        assert len(found) == 1, f"expected one check named {check}, found {sorted(found)}:\n{run.output}"
        assert not run.proxy_errors, f"a proxy rule raised: {run.proxy_errors}"
        (node, result), *_ = found.items()
        return result.outcome, f"{node}: {result.outcome}\n    {result.message[:800]}"


BY_REQUIREMENT = ByRequirement()
BY_CHECK_NAME = ByCheckName()


@dataclass(frozen=True)
class Case:
    area: str  # every area module's cases are of this class: a plan starts the runs of its own area only
    server: str
    key: str  # a requirement or a check name, as the area's tables are keyed
    kind: str  # "control", "repair" or "fault"
    fault: str | None = None
    plans: str = ""  # the prefix of its area's plan fixtures (FaultArea.plans)

    @property
    def plan_fixture(self) -> str:
        return f"{self.plans}{self.server}_plan"


@dataclass(frozen=True)
class FaultArea:
    """An area whose fault module judges its checks from a table of expectations per server.

    - control: no rule. A key the server keeps reports PASS; one it breaks (a confirmed deviation) FAIL.
    - repair: the expectation's repair alone; the checks must then PASS, so none is a check that always fails.
    - fault: the expectation's rules for one fault; the checks must then FAIL.
    """

    name: str  # names the module's temporary directories and pool threads
    selection: Sequence[str]  # what the control run, and any run without rules, selects of the suite
    tables: Mapping[str, Mapping[str, Expectation]]  # server -> key -> expectation
    keying: Keying
    target_copy: TargetCopy = without_deviations
    judged_elsewhere: Mapping[str, Collection[str]] = field(default_factory=dict)  # server -> keys not in its table
    plans: str = ""  # prefixes its plan fixtures' names: a module may hold two areas (their `plan` fixture is one)

    def rules_of(self, case: Case) -> tuple[ProxyRule, ...]:
        return () if case.kind == "control" else self.tables[case.server][case.key].rules(case.fault)

    def open_plan(self, server: str, runner: SuiteRunner, session: pytest.Session) -> AreaPlan:
        cases = [case for case in cases_of(session, Case, server) if case.area == self.name]
        return AreaPlan(self, server, runner, cases)

    def plan_fixture(self, server: str) -> object:
        return server_plan_fixture(self.name, server, self.target_copy, self.open_plan, self.plans)

    def case_plan_fixture(self) -> object:
        """The module's `plan` fixture: the plan of the case's server, in the case's area (one fixture serves every
        area of the module)."""

        @pytest.fixture(name="plan")
        def plan(request: pytest.FixtureRequest, case: Case) -> AreaPlan:
            return request.getfixturevalue(case.plan_fixture)  # type: ignore[no-any-return]

        return plan

    def _param(self, server: str, key: str, kind: str, fault: str | None = None) -> ParameterSet:
        label = ":".join(part for part in (server, key, fault) if part)
        return pytest.param(Case(self.name, server, key, kind, fault, self.plans), id=label)

    def control_cases(self) -> list[ParameterSet]:
        return [self._param(s, key, "control") for s, table in self.tables.items() for key in sorted(table)]

    def repair_cases(self) -> list[ParameterSet]:
        return [
            self._param(s, key, "repair")
            for s, table in self.tables.items()
            for key in sorted(table)
            if table[key].repair
        ]

    def fault_cases(self) -> list[ParameterSet]:
        return [
            self._param(s, key, "fault", fault)
            for s, table in self.tables.items()
            for key in sorted(table)
            for fault in table[key].faults
        ]

    def coverage_test(self) -> Callable[[pytest.FixtureRequest, str], None]:
        """Every key whose checks apply on a server has a case there, and every table key applies."""

        @pytest.mark.parametrize("server", list(self.tables))
        def test_every_key_is_covered(request: pytest.FixtureRequest, server: str) -> None:
            control: SuiteRun = request.getfixturevalue(f"{self.plans}{server}_plan").control
            applicable = {
                self.keying.key_of(node, check)
                for node, check in control.checks.items()
                if check.outcome != NOT_APPLICABLE
            }
            table = set(self.tables[server])
            uncovered = sorted(applicable - set(self.judged_elsewhere.get(server, ())) - table)
            assert not uncovered, self.keying.uncovered_message(self.name.upper(), server, uncovered)
            assert not sorted(table - applicable), self.keying.not_applicable_message

        return test_every_key_is_covered

    def control_test(self) -> Callable[[AreaPlan, Case], None]:
        @pytest.mark.parametrize("case", self.control_cases())
        def test_control(plan: AreaPlan, case: Case) -> None:
            """No rule: PASS where the server keeps the promise; FAIL where it is known to break it."""
            fails = self.tables[case.server][case.key].fails_without_rules
            self.keying.assert_control(plan.control, case.key, fails)

        return test_control

    def repair_test(self) -> Callable[[AreaPlan, Case], None]:
        @pytest.mark.parametrize("case", self.repair_cases())
        def test_repaired_deviation_passes(plan: AreaPlan, case: Case) -> None:
            """With the server's deviation hidden, the checks pass."""
            self.keying.assert_outcome(plan.result(case), case.key, "PASS")

        return test_repaired_deviation_passes

    def fault_test(self) -> Callable[[AreaPlan, Case], None]:
        @pytest.mark.parametrize("case", self.fault_cases())
        def test_fault_makes_the_checks_fail(plan: AreaPlan, case: Case) -> None:
            """Under a fault that breaks the promise, the checks report FAIL."""
            run = plan.result(case)
            assert run.hits.get(str(case.fault), 0) > 0, f"fault {case.fault} never matched a request:\n{run.output}"
            self.keying.assert_outcome(run, case.key, "FAIL")

        return test_fault_makes_the_checks_fail


class AreaPlan:
    """The control run maps table keys to check node ids; every case's run starts ahead, two at a time."""

    def __init__(self, area: FaultArea, server: str, runner: SuiteRunner, cases: Sequence[Case]) -> None:
        self.area = area
        self.server = server
        self.runner = runner
        self.control = runner.run((), area.selection)
        for case in cases:
            self.submit(case)

    def nodes_for(self, rules: tuple[ProxyRule, ...]) -> list[str]:
        """The checks of every key of this server whose case uses exactly `rules`."""
        served = {
            key
            for key, expectation in self.area.tables[self.server].items()
            for fault in (None, *expectation.faults)
            if expectation.rules(fault) == rules
        }
        keying = self.area.keying
        return sorted(node for node, check in self.control.checks.items() if keying.key_of(node, check) in served)

    def submit(self, case: Case) -> Future[SuiteRun]:
        rules = self.area.rules_of(case)
        return self.runner.submit(rules, self.nodes_for(rules) if rules else self.area.selection)

    def result(self, case: Case) -> SuiteRun:
        return self.submit(case).result()
