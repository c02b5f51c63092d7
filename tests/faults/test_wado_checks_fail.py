"""Every WADO-RS depth check can fail, and can pass: the suite's five WADO depth modules run through a fault
proxy in front of a real Orthanc (standard profile) and of the Azure facade over Orthanc (azure profile).

- control: no rule. A requirement the server meets reports PASS; one the server breaks (a confirmed
  deviation, so the check is seen failing against a real server) reports FAIL.
- repair: a rule that hides that deviation; the check must then PASS, so it is not a check that always fails.
- fault: a rule that breaks one promise (on top of the repair where the check cannot pass without it);
  every check of the requirement must then FAIL.

The runner, the proxy and the outcome helpers are those of test_every_check_can_fail.py; the rules are in
rules_wado.py. Target files are copies of the project's own, claiming "wado.rendered" (Orthanc renders) and
with no [[deviation]] entries, so every check reports its plain verdict (--dicomweb-strict: MAY and SHOULD
failures are FAIL too).
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
from tests.faults.rules_wado import WADO_FAULTS, WADO_REPAIRS
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

WADO_TOPICS = ("negotiation", "transfer_syntax", "frames", "rendered", "not_found")
WADO_CHECKS = [f"suites/wado/test_wado_{topic}.py" for topic in WADO_TOPICS]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: the server breaks the requirement; this rule hides that
    faults_need_repair: bool = False  # the faults go with the repair
    fault_outermost: bool = False  # the fault changes the repaired answer, rather than what the repair sees

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        repair = (WADO_REPAIRS[self.repair],) if self.repair and (fault is None or self.faults_need_repair) else ()
        broken = (WADO_FAULTS[fault],) if fault else ()
        # FaultProxy applies rules in order, the first one outermost.
        return broken + repair if self.fault_outermost else repair + broken


_NOT_ACCEPTABLE = Expectation(repair="repair-wado-not-acceptable")
_TRANSCODING = Expectation(("wado-ignores-transfer-syntax", "wado-transcoding-changes-pixels"))
_FRAME_ORDER = Expectation(("frames-reverses-parts", "frames-flips-a-byte-any-accept"))
_FRAME_BYTES = Expectation(("frames-flips-a-byte-any-accept",))
_IMAGE = Expectation(("rendered-swaps-width-and-height", "rendered-not-an-image"))
_NOT_FOUND = Expectation(("wado-404-as-400", "wado-404-with-a-representation"))

ORTHANC_CASES: dict[str, Expectation] = {
    "DW-WADO-100": Expectation(("wado-unquoted-type-refused",)),
    "DW-WADO-101": Expectation(repair="repair-wado-accept-list"),
    "DW-WADO-102": Expectation(("wado-lowest-q-wins",), repair="repair-wado-q-values"),
    "DW-WADO-103": Expectation(repair="repair-wado-q-zero"),
    "DW-WADO-104": Expectation(("wado-no-accept-serves-stored-syntax",)),
    "DW-WADO-105": _NOT_ACCEPTABLE,
    "DW-WADO-106": _NOT_ACCEPTABLE,
    "DW-WADO-107": _NOT_ACCEPTABLE,
    "DW-WADO-108": Expectation(("wado-answer-without-type",)),
    "DW-WADO-110": _TRANSCODING,
    "DW-WADO-111": _TRANSCODING,
    "DW-WADO-112": _TRANSCODING,
    "DW-WADO-113": Expectation(repair="repair-wado-forbidden-syntax"),
    "DW-WADO-114": Expectation(("wado-any-syntax-big-endian",)),
    "DW-WADO-115": Expectation(("wado-parts-declare-jpeg-baseline",)),
    "DW-WADO-116": Expectation(
        ("wado-parts-declare-jpeg-baseline",),
        repair="repair-wado-part-syntax",
        faults_need_repair=True,
        fault_outermost=True,
    ),
    "DW-WADO-117": _NOT_ACCEPTABLE,
    "DW-WADO-120": _FRAME_ORDER,
    "DW-WADO-121": _FRAME_ORDER,
    "DW-WADO-122": _FRAME_BYTES,
    "DW-WADO-123": Expectation(("frames-bad-number-404",)),
    "DW-WADO-124": Expectation(repair="repair-frames-past-the-end"),
    "DW-WADO-125": _FRAME_ORDER,
    "DW-WADO-126": Expectation(
        ("frames-flips-a-byte-any-accept",), repair="repair-frames-single-part", faults_need_repair=True
    ),
    "DW-WADO-127": _FRAME_BYTES,
    "DW-WADO-128": _FRAME_BYTES,
    "DW-WADO-129": _NOT_ACCEPTABLE,
    "DW-WADO-130": _NOT_ACCEPTABLE,
    "DW-WADO-131": _FRAME_ORDER,
    "DW-WADO-132": Expectation(repair="repair-frames-type-parameter"),
    "DW-WADO-140": _IMAGE,
    "DW-WADO-141": _IMAGE,
    "DW-WADO-142": Expectation(("rendered-frame-always-first",)),
    "DW-WADO-143": _IMAGE,
    "DW-WADO-144": Expectation(repair="repair-frames-past-the-end"),
    "DW-WADO-145": _NOT_ACCEPTABLE,
    "DW-WADO-160": _NOT_FOUND,
    "DW-WADO-161": _NOT_FOUND,
    "DW-WADO-162": _NOT_FOUND,
    "DW-WADO-163": _NOT_FOUND,
}

# The requirements only the azure profile adds; the DW-* ones are judged on Orthanc above.
FACADE_CASES: dict[str, Expectation] = {
    "AZ-WADO-100": Expectation(repair="repair-facade-no-accept"),
    "AZ-WADO-101": Expectation(repair="repair-facade-several-instances"),
    "AZ-WADO-102": Expectation(("frames-single-part-many-200",)),
    "AZ-WADO-103": Expectation(("frames-encoded-list-first-only",)),
    "AZ-WADO-104": Expectation(("rendered-ignores-quality",)),
    "AZ-WADO-105": Expectation(("rendered-instance-shows-last-frame",)),
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
        expectation = SERVERS[self.server][self.requirement]
        return () if self.kind == "control" else expectation.rules(self.fault)


def rendered_copy(target: Path, destination: Path) -> Path:
    """`target` without its [[deviation]] entries, claiming the rendered resources."""
    text = target.read_text().split("\n[[deviation]]")[0]
    if '"wado.rendered"' not in text:
        text = text.replace("\nwado = true\n", '\nwado = true\n"wado.rendered" = true\n', 1)
    destination.write_text(text)
    return destination


class WadoPlan:
    """The control run maps requirements to check node ids; every case's run starts ahead, two at a time."""

    def __init__(self, server: str, runner: SuiteRunner, cases: Sequence[Case]) -> None:
        self.server = server
        self.runner = runner
        self.control = runner.run((), WADO_CHECKS)
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
        return self.runner.submit(rules, self.nodes_for(rules) if rules else WADO_CHECKS)

    def result(self, case: Case) -> SuiteRun:
        return self.submit(case).result()


def cases_of(session: pytest.Session, server: str) -> list[Case]:
    found = [getattr(item, "callspec", None) for item in session.items]
    cases = [spec.params.get("case") for spec in found if spec is not None]
    return [case for case in cases if isinstance(case, Case) and case.server == server]


@pytest.fixture(scope="module")
def wado_pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS, thread_name_prefix="wado-suite-run") as executor:
        yield executor


@pytest.fixture(scope="module")
def orthanc_wado_plan(
    request: pytest.FixtureRequest, wado_pool: ThreadPoolExecutor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WadoPlan]:
    workdir = tmp_path_factory.mktemp("wado-orthanc")
    server = ServerUnderTest("orthanc", rendered_copy(ORTHANC_TARGET, workdir / "target.toml"), "/dicom-web", {})
    with OrthancServer() as orthanc, runner_for(server, orthanc.rest_url, wado_pool, workdir) as runner:
        yield WadoPlan("orthanc", runner, cases_of(request.session, "orthanc"))


@pytest.fixture(scope="module")
def facade_wado_plan(
    request: pytest.FixtureRequest, wado_pool: ThreadPoolExecutor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WadoPlan]:
    workdir = tmp_path_factory.mktemp("wado-facade")
    target = rendered_copy(FACADE_TARGET, workdir / "target.toml")
    server = ServerUnderTest("facade", target, "/v2", {}, environment={"DICOMWEB_TOKEN": AUTH_TOKEN})
    with (
        facade_over_fresh_orthanc(tokens={AUTH_TOKEN}) as facade,
        runner_for(server, facade.base_url, wado_pool, workdir) as runner,
    ):
        yield WadoPlan("facade", runner, cases_of(request.session, "facade"))


@pytest.fixture
def plan(request: pytest.FixtureRequest, case: Case) -> WadoPlan:
    return request.getfixturevalue(f"{case.server}_wado_plan")  # type: ignore[no-any-return]


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
def test_every_wado_requirement_is_covered(request: pytest.FixtureRequest, server: str) -> None:
    control: SuiteRun = request.getfixturevalue(f"{server}_wado_plan").control
    applicable = {check.requirement for check in control.checks.values() if check.outcome != NOT_APPLICABLE}
    judged_elsewhere = set(ORTHANC_CASES) if server == "facade" else set()
    uncovered = sorted(applicable - judged_elsewhere - set(SERVERS[server]))
    assert not uncovered, f"WADO requirements with checks but no case on {server}: {uncovered}"
    assert not sorted(set(SERVERS[server]) - applicable), "the table names requirements that do not apply here"


@pytest.mark.parametrize("case", CONTROL_CASES)
def test_control(plan: WadoPlan, case: Case) -> None:
    """No rule: PASS where the server keeps the promise; FAIL where it is known to break it."""
    outcomes = outcomes_of(plan.control, case.requirement)
    breaks_it = SERVERS[case.server][case.requirement].repair is not None
    checks = describe(plan.control.for_requirement(case.requirement))
    if breaks_it:
        assert "FAIL" in outcomes, f"the deviation no longer shows:\n{checks}"
    else:
        assert outcomes == {"PASS"}, checks


@pytest.mark.parametrize("case", REPAIR_CASES)
def test_repaired_deviation_passes(plan: WadoPlan, case: Case) -> None:
    """With the server's deviation hidden, every check of the requirement passes."""
    run = plan.result(case)
    assert outcomes_of(run, case.requirement) == {"PASS"}, describe(run.for_requirement(case.requirement))


@pytest.mark.parametrize("case", FAULT_CASES)
def test_fault_makes_the_checks_fail(plan: WadoPlan, case: Case) -> None:
    run = plan.result(case)
    assert run.hits.get(str(case.fault), 0) > 0, f"fault {case.fault} never matched a request:\n{run.output}"
    assert outcomes_of(run, case.requirement) == {"FAIL"}, describe(run.for_requirement(case.requirement))
