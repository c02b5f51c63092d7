"""Every property check can fail, and can pass: suites/properties runs through a fault proxy in front of a real
Orthanc (standard profile, strict target without [[deviation]] entries).

- control: no rule. Exactly the requirements Orthanc is known to break FAIL (the [[deviation]] entries proposed
  for targets/orthanc.toml, each confirmed by hand), every other property check PASSes.
- repaired: rules_properties.REPAIRS stand in for a server that behaves; every property check PASSes.
- fault: one rule that breaks one promise, outermost over the repairs; the checks of its requirement FAIL.
- tolerated: an answer PS3.18 allows, over the repairs; every property check still PASSes.

The DW-PROP requirements are judged here on Orthanc only: the facade forwards the same answers (its deviations
are Orthanc's). The runner and the proxy are those of test_every_check_can_fail.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.faults.area_harness import orthanc_runner
from tests.faults.rules import FAULTS as SHARED_FAULTS
from tests.faults.rules import ProxyRule
from tests.faults.rules_properties import FAULTS, REPAIRS, TOLERATED
from tests.faults.test_every_check_can_fail import (
    NOT_APPLICABLE,
    ORTHANC_TARGET,
    PARALLEL_RUNS,
    SuiteRun,
    SuiteRunner,
    describe,
)

PROPERTY_CHECKS = ("suites/properties",)

# requirement -> the faults that must make its checks FAIL (rules_properties.FAULTS, or the shared rules.FAULTS)
ORTHANC_FAULTS: dict[str, tuple[str, ...]] = {
    "DW-PROP-001": ("wado-instance-flips-a-byte",),
    "DW-PROP-002": ("properties-metadata-text-changed",),
    "DW-PROP-003": ("properties-metadata-number-changed",),
    "DW-PROP-004": ("properties-metadata-binary-as-value",),
    "DW-PROP-005": ("properties-metadata-drops-empty-items",),
    "DW-PROP-006": ("properties-frames-reversed",),
    **{
        requirement: ("properties-search-drops-a-match", "properties-search-repeats-a-match")
        for requirement in ("DW-PROP-007", "DW-PROP-008", "DW-PROP-009", "DW-PROP-010", "DW-PROP-011")
    },
    "DW-PROP-012": ("properties-paging-ignores-offset",),
}
# What Orthanc 1.10.1 + DICOMweb 1.7 breaks with no rule: the proposed [[deviation]] entries.
ORTHANC_DEVIATIONS = frozenset(
    {
        "DW-PROP-002",
        "DW-PROP-003",
        "DW-PROP-004",
        "DW-PROP-005",
        "DW-PROP-007",
        "DW-PROP-008",
        "DW-PROP-009",
        "DW-PROP-011",
    }
)
ALL_FAULTS: dict[str, ProxyRule] = {**SHARED_FAULTS, **FAULTS}


def fault_rules(fault: str) -> tuple[ProxyRule, ...]:
    """FaultProxy applies rules in order, the first one outermost: the fault changes the repaired answer."""
    return (ALL_FAULTS[fault], *REPAIRS.values())


def tolerated_rules(name: str) -> tuple[ProxyRule, ...]:
    return (TOLERATED[name], *REPAIRS.values())


FAULT_CASES = [
    pytest.param(requirement, fault, id=f"{requirement}:{fault}")
    for requirement, faults in sorted(ORTHANC_FAULTS.items())
    for fault in faults
]


class PropertyPlan:
    """The control run, the repaired run and every case's run, all started at once, two at a time."""

    def __init__(self, runner: SuiteRunner) -> None:
        self.runner = runner
        self.control = self.submit(())
        self.repaired = self.submit(tuple(REPAIRS.values()))
        for fault in {fault for faults in ORTHANC_FAULTS.values() for fault in faults}:
            self.submit(fault_rules(fault))
        for name in TOLERATED:
            self.submit(tolerated_rules(name))

    def submit(self, rules: Sequence[ProxyRule]) -> Future[SuiteRun]:
        return self.runner.submit(rules, PROPERTY_CHECKS)


@pytest.fixture(scope="module")
def property_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PropertyPlan]:
    with (
        ThreadPoolExecutor(max_workers=PARALLEL_RUNS, thread_name_prefix="property-suite-run") as pool,
        orthanc_runner(ORTHANC_TARGET, pool, tmp_path_factory.mktemp("properties")) as runner,
    ):
        yield PropertyPlan(runner)


def outcomes(run: SuiteRun) -> dict[str, set[str]]:
    """requirement -> the outcomes of its checks, for every property check the run judged."""
    judged: dict[str, set[str]] = {}
    for check in run.checks.values():
        if check.outcome != NOT_APPLICABLE:
            judged.setdefault(check.requirement, set()).add(check.outcome)
    return judged


def test_every_property_requirement_has_faults(property_plan: PropertyPlan) -> None:
    assert set(outcomes(property_plan.control.result())) == set(ORTHANC_FAULTS)
    assert {fault for faults in ORTHANC_FAULTS.values() for fault in faults} <= set(ALL_FAULTS)


def test_control_fails_exactly_the_known_deviations(property_plan: PropertyPlan) -> None:
    """No rule: the confirmed deviations FAIL, every other property check PASSes."""
    run = property_plan.control.result()
    assert not run.proxy_errors, run.proxy_errors
    judged = outcomes(run)
    assert {r for r, found in judged.items() if found == {"FAIL"}} == ORTHANC_DEVIATIONS, describe(run.checks)
    assert {r for r, found in judged.items() if found == {"PASS"}} == set(judged) - ORTHANC_DEVIATIONS


def test_repaired_run_passes(property_plan: PropertyPlan) -> None:
    """With the deviations put right, every property check PASSes: none always fails."""
    run = property_plan.repaired.result()
    assert not run.proxy_errors, run.proxy_errors
    assert set().union(*outcomes(run).values()) == {"PASS"}, describe(run.checks)


@pytest.mark.parametrize(("requirement", "fault"), FAULT_CASES)
def test_fault_makes_the_checks_fail(property_plan: PropertyPlan, requirement: str, fault: str) -> None:
    run = property_plan.submit(fault_rules(fault)).result()
    assert run.hits.get(fault, 0) > 0, f"fault {fault} never matched a request:\n{run.output}"
    assert not run.proxy_errors, run.proxy_errors
    assert outcomes(run)[requirement] == {"FAIL"}, describe(run.for_requirement(requirement))


@pytest.mark.parametrize("name", sorted(TOLERATED))
def test_tolerated_variation_passes(property_plan: PropertyPlan, name: str) -> None:
    """An answer PS3.18 allows fails no property check."""
    run = property_plan.submit(tolerated_rules(name)).result()
    assert run.hits.get(name, 0) > 0, f"{name} never matched a request:\n{run.output}"
    assert not run.proxy_errors, run.proxy_errors
    assert set().union(*outcomes(run).values()) == {"PASS"}, describe(run.checks)
