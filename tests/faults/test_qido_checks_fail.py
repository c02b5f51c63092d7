"""Every QIDO-RS depth check can fail, and can pass: the six QIDO depth modules run through a fault proxy in
front of a real Orthanc (standard profile) and of the Azure facade over Orthanc (azure profile).

- control: no rule. A requirement the server meets reports PASS; one the server breaks (a confirmed
  deviation, so those checks are seen failing against a real server) reports FAIL for them.
- repair: a rule that hides that deviation; every check of the requirement must then PASS, so none is a
  check that always fails.
- fault: a rule that breaks one promise; every check of the requirement must then FAIL.

The runner, the proxy and the outcome helpers are those of test_every_check_can_fail.py; the rules are in
rules_qido.py. The target files are the project's own without their [[deviation]] entries, and runs use
--dicomweb-strict, so every check reports its plain verdict (a SHOULD that fails is FAIL).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from targets.facade.server import facade_over_fresh_orthanc
from targets.orthanc_server import OrthancServer
from tests.faults.rules import AUTH_TOKEN, ProxyRule
from tests.faults.rules_qido import QIDO_FAULTS, QIDO_REPAIRS
from tests.faults.test_every_check_can_fail import (
    FACADE_TARGET,
    NOT_APPLICABLE,
    ORTHANC_TARGET,
    PARALLEL_RUNS,
    ServerUnderTest,
    SuiteRun,
    SuiteRunner,
    describe,
    outcomes_of,
    runner_for,
)

QIDO_TOPICS = ("attributes", "matching", "includefield", "paging", "encoding", "errors")
QIDO_CHECKS = [f"suites/qido/test_qido_{topic}.py" for topic in QIDO_TOPICS]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: the server breaks the requirement (some checks FAIL); this rule hides it

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # A fault alone: checks the deviation already fails keep failing, the others fail by the fault.
        if fault is not None:
            return (QIDO_FAULTS[fault],)
        return (QIDO_REPAIRS[self.repair],) if self.repair else ()


_RESULTS = ("qido-ignores-last-key", "qido-drops-last-result", "qido-repeats-last-result")
_LISTED = ("qido-drops-last-result", "qido-repeats-last-result")
_INCLUDED = ("qido-ignores-includefield", "qido-empties-every-value", "qido-drops-last-result")
_RETURNED = ("qido-empties-every-value", "qido-drops-last-result")
_NO_CONTENT = Expectation(repair="repair-qido-no-content")

ORTHANC_CASES: dict[str, Expectation] = {
    "DW-QIDO-100": Expectation(_RESULTS, repair="repair-qido-modalities-in-study"),
    "DW-QIDO-101": Expectation(_RESULTS),
    "DW-QIDO-102": Expectation(_RESULTS),
    "DW-QIDO-103": Expectation(_RESULTS),
    "DW-QIDO-104": Expectation(_RESULTS),
    "DW-QIDO-105": Expectation(_RESULTS),
    # Not the ignored key for *: PatientName=* alone rightly selects the whole scope.
    "DW-QIDO-110": Expectation((*_LISTED, "qido-no-wildcards")),
    "DW-QIDO-111": Expectation((*_RESULTS, "qido-no-wildcards")),
    "DW-QIDO-112": Expectation((*_LISTED, "qido-uid-list-first-only")),
    "DW-QIDO-113": Expectation((*_LISTED, "qido-range-start-only")),
    "DW-QIDO-114": Expectation((*_LISTED, "qido-range-start-only")),
    "DW-QIDO-115": Expectation(_RESULTS),
    "DW-QIDO-116": Expectation(repair="repair-qido-case-sensitive"),
    "DW-QIDO-117": Expectation(repair="repair-qido-fuzzy-warning"),
    "DW-QIDO-118": Expectation(("qido-fuzzy-400",)),
    "DW-QIDO-130": Expectation(_INCLUDED),
    "DW-QIDO-131": Expectation(_INCLUDED),
    "DW-QIDO-132": Expectation(_INCLUDED),
    "DW-QIDO-133": Expectation(_INCLUDED),
    "DW-QIDO-134": Expectation(repair="repair-qido-includefield-all"),
    "DW-QIDO-135": Expectation(repair="repair-qido-includefield-all"),
    "DW-QIDO-136": Expectation(repair="repair-qido-level-attributes"),
    "DW-QIDO-137": Expectation(_RETURNED),
    "DW-QIDO-138": Expectation(_RETURNED),
    "DW-QIDO-139": Expectation(_RETURNED),
    "DW-QIDO-150": Expectation(("qido-ignores-limit", "qido-ignores-offset", "qido-repeats-last-result")),
    "DW-QIDO-151": Expectation(("qido-ignores-limit", "qido-repeats-last-result")),
    "DW-QIDO-152": Expectation(("qido-ignores-offset", "qido-repeats-last-result")),
    "DW-QIDO-153": _NO_CONTENT,
    "DW-QIDO-154": Expectation(repair="repair-qido-additional-results-warning"),
    "DW-QIDO-155": _NO_CONTENT,
    "DW-QIDO-170": Expectation(repair="repair-qido-percent-decoding"),
    "DW-QIDO-171": Expectation(repair="repair-qido-percent-decoding"),
    "DW-QIDO-172": Expectation(("qido-strips-accents", "qido-drops-last-result")),
    "DW-QIDO-180": Expectation(("qido-unknown-parameter-400",)),
    "DW-QIDO-181": Expectation(("qido-absurd-500",), repair="repair-qido-negative-paging"),
}

_AZURE_NAMES = Expectation(_LISTED, repair="repair-facade-azure-name-matching")
_AZURE_400 = Expectation(("qido-400-becomes-200",), repair="repair-facade-azure-validation")

# The requirements only the azure profile adds; the DW-* ones are judged on Orthanc above.
FACADE_CASES: dict[str, Expectation] = {
    "AZ-QIDO-100": Expectation(_RESULTS),
    "AZ-QIDO-101": Expectation(_RESULTS),
    "AZ-QIDO-110": _AZURE_NAMES,
    "AZ-QIDO-111": _AZURE_NAMES,
    "AZ-QIDO-112": Expectation(_LISTED),
    "AZ-QIDO-113": Expectation(repair="repair-facade-azure-name-matching"),
    "AZ-QIDO-114": Expectation(repair="repair-facade-azure-name-matching"),
    "AZ-QIDO-120": Expectation(_RETURNED),
    "AZ-QIDO-121": Expectation(_RETURNED, repair="repair-facade-default-attributes"),
    "AZ-QIDO-122": Expectation(_RETURNED),
    **{f"AZ-QIDO-{number}": _AZURE_400 for number in range(140, 149)},
}

SERVERS: dict[str, Mapping[str, Expectation]] = {"orthanc": ORTHANC_CASES, "facade": FACADE_CASES}


@dataclass(frozen=True)
class Case:
    server: str
    requirement: str
    kind: str  # "control", "repair" or "fault"
    fault: str | None = None

    @property
    def rules(self) -> tuple[ProxyRule, ...]:
        return () if self.kind == "control" else SERVERS[self.server][self.requirement].rules(self.fault)


def without_deviations(target: Path, destination: Path) -> Path:
    destination.write_text(target.read_text().split("\n[[deviation]]")[0])
    return destination


class QidoPlan:
    """The control run maps requirements to check node ids; every case's run starts ahead, two at a time."""

    def __init__(self, server: str, runner: SuiteRunner, cases: Sequence[Case]) -> None:
        self.server = server
        self.runner = runner
        self.control = runner.run((), QIDO_CHECKS)
        for case in cases:
            self.submit(case)

    def nodes_for(self, rules: tuple[ProxyRule, ...]) -> list[str]:
        """The checks of every requirement of this server whose case uses exactly `rules`."""
        served = {
            requirement
            for requirement, expectation in SERVERS[self.server].items()
            for fault in (None, *expectation.faults)
            if expectation.rules(fault) == rules
        }
        return sorted(node for node, check in self.control.checks.items() if check.requirement in served)

    def submit(self, case: Case) -> Future[SuiteRun]:
        rules = case.rules
        return self.runner.submit(rules, self.nodes_for(rules) if rules else QIDO_CHECKS)

    def result(self, case: Case) -> SuiteRun:
        return self.submit(case).result()


def cases_of(session: pytest.Session, server: str) -> list[Case]:
    found = [getattr(item, "callspec", None) for item in session.items]
    cases = [spec.params.get("case") for spec in found if spec is not None]
    return [case for case in cases if isinstance(case, Case) and case.server == server]


@pytest.fixture(scope="module")
def qido_pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS, thread_name_prefix="qido-suite-run") as executor:
        yield executor


@pytest.fixture(scope="module")
def orthanc_qido_plan(
    request: pytest.FixtureRequest, qido_pool: ThreadPoolExecutor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QidoPlan]:
    workdir = tmp_path_factory.mktemp("qido-orthanc")
    target = without_deviations(ORTHANC_TARGET, workdir / "target.toml")
    server = ServerUnderTest("orthanc", target, "/dicom-web", {})
    with OrthancServer() as orthanc, runner_for(server, orthanc.rest_url, qido_pool, workdir) as runner:
        yield QidoPlan("orthanc", runner, cases_of(request.session, "orthanc"))


@pytest.fixture(scope="module")
def facade_qido_plan(
    request: pytest.FixtureRequest, qido_pool: ThreadPoolExecutor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QidoPlan]:
    workdir = tmp_path_factory.mktemp("qido-facade")
    target = without_deviations(FACADE_TARGET, workdir / "target.toml")
    server = ServerUnderTest("facade", target, "/v2", {}, environment={"DICOMWEB_TOKEN": AUTH_TOKEN})
    with (
        facade_over_fresh_orthanc(tokens={AUTH_TOKEN}) as facade,
        runner_for(server, facade.base_url, qido_pool, workdir) as runner,
    ):
        yield QidoPlan("facade", runner, cases_of(request.session, "facade"))


@pytest.fixture
def plan(request: pytest.FixtureRequest, case: Case) -> QidoPlan:
    return request.getfixturevalue(f"{case.server}_qido_plan")  # type: ignore[no-any-return]


def _param(case: Case) -> object:
    label = ":".join(part for part in (case.server, case.requirement, case.fault) if part)
    return pytest.param(case, id=label)


CONTROL_CASES = [_param(Case(s, r, "control")) for s, table in SERVERS.items() for r in sorted(table)]
REPAIR_CASES = [
    _param(Case(s, r, "repair")) for s, table in SERVERS.items() for r, e in sorted(table.items()) if e.repair
]
FAULT_CASES = [
    _param(Case(s, r, "fault", fault))
    for s, table in SERVERS.items()
    for r, expectation in sorted(table.items())
    for fault in expectation.faults
]


@pytest.mark.parametrize("server", list(SERVERS))
def test_every_qido_requirement_is_covered(request: pytest.FixtureRequest, server: str) -> None:
    control: SuiteRun = request.getfixturevalue(f"{server}_qido_plan").control
    applicable = {check.requirement for check in control.checks.values() if check.outcome != NOT_APPLICABLE}
    judged_elsewhere = set(ORTHANC_CASES) if server == "facade" else set()
    uncovered = sorted(applicable - judged_elsewhere - set(SERVERS[server]))
    assert not uncovered, f"QIDO requirements with checks but no case on {server}: {uncovered}"
    assert not sorted(set(SERVERS[server]) - applicable), "the table names requirements that do not apply here"


@pytest.mark.parametrize("case", CONTROL_CASES)
def test_control(plan: QidoPlan, case: Case) -> None:
    """No rule: PASS where the server keeps the promise; FAIL where it is known to break it."""
    outcomes = outcomes_of(plan.control, case.requirement)
    breaks_it = SERVERS[case.server][case.requirement].repair is not None
    checks = describe(plan.control.for_requirement(case.requirement))
    if breaks_it:
        assert "FAIL" in outcomes, f"the deviation no longer shows:\n{checks}"
    else:
        assert outcomes == {"PASS"}, checks


@pytest.mark.parametrize("case", REPAIR_CASES)
def test_repaired_deviation_passes(plan: QidoPlan, case: Case) -> None:
    """With the server's deviation hidden, every check of the requirement passes."""
    run = plan.result(case)
    assert outcomes_of(run, case.requirement) == {"PASS"}, describe(run.for_requirement(case.requirement))


@pytest.mark.parametrize("case", FAULT_CASES)
def test_fault_makes_the_checks_fail(plan: QidoPlan, case: Case) -> None:
    """Under a fault that breaks the requirement's promise, every one of its checks reports FAIL."""
    run = plan.result(case)
    assert run.hits.get(str(case.fault), 0) > 0, f"fault {case.fault} never matched a request:\n{run.output}"
    assert outcomes_of(run, case.requirement) == {"FAIL"}, describe(run.for_requirement(case.requirement))
