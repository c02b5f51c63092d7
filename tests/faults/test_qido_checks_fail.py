"""Every QIDO-RS depth check can fail, and can pass: the six QIDO depth modules run through a fault proxy in
front of a real Orthanc (standard profile) and of the Azure facade over Orthanc (azure profile).

- control: no rule. A requirement the server meets reports PASS; one the server breaks (a confirmed
  deviation, so those checks are seen failing against a real server) reports FAIL for them.
- repair: a rule that hides that deviation; every check of the requirement must then PASS, so none is a
  check that always fails.
- fault: a rule that breaks one promise; every check of the requirement must then FAIL.

The cases, their runs and the tests are those of area_harness.py, over the runner and the proxy of
test_every_check_can_fail.py; the rules are in rules_qido.py. The target files are the project's own without
their [[deviation]] entries, and runs use --dicomweb-strict, so every check reports its plain verdict (a SHOULD
that fails is FAIL). The facade's also without its `fuzzy_index_timeout = 0`: the repair of AZ-QIDO-114 gives it a
fuzzy index that lags as Azure's does, which a file saying the index never lags would not wait for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.faults.area_harness import BY_REQUIREMENT, AreaPlan, FaultArea, suite_pool_fixture, without_deviations
from tests.faults.rules import ProxyRule
from tests.faults.rules_qido import CAP_RESULTS_AT_TWO, QIDO_FAULTS, QIDO_REPAIRS
from tests.faults.test_every_check_can_fail import describe, outcomes_of

QIDO_TOPICS = ("attributes", "matching", "includefield", "paging", "encoding", "errors")
QIDO_CHECKS = [f"suites/qido/test_qido_{topic}.py" for topic in QIDO_TOPICS]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: the server breaks the requirement (some checks FAIL); this rule hides it

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # A fault alone: checks the deviation already fails keep failing, the others fail by the fault.
        if fault is not None:
            return (QIDO_FAULTS[fault],)
        return (QIDO_REPAIRS[self.repair],) if self.repair else ()


_RESULTS = ("qido-ignores-last-key", "qido-drops-last-result", "qido-repeats-last-result")
_LISTED = ("qido-drops-last-result", "qido-repeats-last-result")
# Ignoring includefield altogether is not among them: an attribute never returned is an optional key the server
# does not support (PS3.18 10.6.3.3), NOT-APPLICABLE; what fails is an includefield form that loses a supported one.
_INCLUDED = ("qido-empties-every-value", "qido-drops-last-result")
_RETURNED = ("qido-empties-every-value", "qido-drops-last-result")
# The positive control of a check that expects nothing: a server that finds nothing at all fails it.
_NO_CONTENT_CONTROLLED = Expectation(("qido-finds-nothing",), repair="repair-qido-no-content")

ORTHANC_CASES: dict[str, Expectation] = {
    "DW-QIDO-100": Expectation(_RESULTS, repair="repair-qido-modalities-in-study"),
    "DW-QIDO-101": Expectation(_RESULTS),
    "DW-QIDO-102": Expectation(_RESULTS),
    "DW-QIDO-103": Expectation(_RESULTS),
    "DW-QIDO-104": Expectation(_RESULTS),
    "DW-QIDO-105": Expectation(_RESULTS),
    "DW-QIDO-110": Expectation((*_RESULTS, "qido-no-wildcards")),
    "DW-QIDO-111": Expectation((*_RESULTS, "qido-no-wildcards")),
    "DW-QIDO-112": Expectation((*_LISTED, "qido-uid-list-first-only")),
    "DW-QIDO-113": Expectation((*_LISTED, "qido-range-start-only")),
    "DW-QIDO-114": Expectation((*_LISTED, "qido-range-start-only")),
    "DW-QIDO-115": Expectation(_RESULTS),
    "DW-QIDO-116": Expectation(("qido-finds-nothing",), repair="repair-qido-case-sensitive"),
    "DW-QIDO-117": Expectation(("qido-ignores-person-names",), repair="repair-qido-fuzzy-warning"),
    # Not the ignored key: PatientName=* alone rightly selects the whole scope.
    "DW-QIDO-119": Expectation((*_LISTED, "qido-no-wildcards")),
    "DW-QIDO-118": Expectation(("qido-fuzzy-400",)),
    "DW-QIDO-130": Expectation((*_INCLUDED, "qido-includefield-tags-ignored")),
    "DW-QIDO-131": Expectation((*_INCLUDED, "qido-includefield-tags-ignored")),
    "DW-QIDO-132": Expectation((*_INCLUDED, "qido-includefield-tags-ignored", "qido-includefield-first-only")),
    "DW-QIDO-133": Expectation((*_INCLUDED, "qido-includefield-first-only")),
    "DW-QIDO-134": Expectation(repair="repair-qido-includefield-all"),
    "DW-QIDO-135": Expectation(repair="repair-qido-includefield-all"),
    "DW-QIDO-136": Expectation(repair="repair-qido-level-attributes"),
    "DW-QIDO-137": Expectation(_RETURNED),
    "DW-QIDO-138": Expectation(_RETURNED),
    "DW-QIDO-139": Expectation(_RETURNED),
    "DW-QIDO-150": Expectation(("qido-ignores-limit", "qido-ignores-offset", "qido-repeats-last-result")),
    "DW-QIDO-151": Expectation(("qido-ignores-limit", "qido-repeats-last-result")),
    "DW-QIDO-152": Expectation(("qido-ignores-offset", "qido-repeats-last-result")),
    "DW-QIDO-153": _NO_CONTENT_CONTROLLED,
    "DW-QIDO-154": Expectation(repair="repair-qido-additional-results-warning"),
    "DW-QIDO-155": _NO_CONTENT_CONTROLLED,
    "DW-QIDO-170": Expectation(repair="repair-qido-percent-decoding"),
    "DW-QIDO-171": Expectation(repair="repair-qido-decode-wildcards"),
    "DW-QIDO-172": Expectation(("qido-strips-accents", "qido-drops-last-result")),
    "DW-QIDO-180": Expectation(("qido-unknown-parameter-400",)),
    "DW-QIDO-181": Expectation(("qido-absurd-500",), repair="repair-qido-negative-paging"),
    "DW-QIDO-182": Expectation(repair="repair-qido-no-accept"),
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
    # A server that finds no name at all answers 204 to the wildcards too: the positive control catches it.
    "AZ-QIDO-113": Expectation(("qido-names-find-nothing",), repair="repair-facade-azure-name-matching"),
    # Passes although the fuzzy index lags (the check polls as Microsoft's E2E test does); a final miss FAILs.
    "AZ-QIDO-114": Expectation(("qido-names-find-nothing",), repair="repair-facade-azure-fuzzy-index-lags"),
    "AZ-QIDO-120": Expectation(_RETURNED),
    "AZ-QIDO-121": Expectation(_RETURNED),  # the facade returns each version's defaults
    "AZ-QIDO-122": Expectation(_RETURNED),
    **{f"AZ-QIDO-{number}": _AZURE_400 for number in range(140, 149)},
}


def _fuzzy_index_may_lag(target: Path, destination: Path) -> Path:
    without_deviations(target, destination)
    destination.write_text(re.sub(r"(?m)^fuzzy_index_timeout = .*\n", "", destination.read_text()))
    return destination


QIDO = FaultArea(
    name="qido",
    selection=QIDO_CHECKS,
    tables={"orthanc": ORTHANC_CASES, "facade": FACADE_CASES},
    keying=BY_REQUIREMENT,
    judged_elsewhere={"facade": set(ORTHANC_CASES)},
    target_copy=_fuzzy_index_may_lag,
)

suite_pool = suite_pool_fixture(QIDO.name)
orthanc_plan = QIDO.plan_fixture("orthanc")
facade_plan = QIDO.plan_fixture("facade")
plan = QIDO.case_plan_fixture()

test_every_qido_requirement_is_covered = QIDO.coverage_test()
test_control = QIDO.control_test()
test_repaired_deviation_passes = QIDO.repair_test()
test_fault_makes_the_checks_fail = QIDO.fault_test()


PAGING = ("DW-QIDO-150", "DW-QIDO-151", "DW-QIDO-152")


def test_paging_checks_pass_under_a_server_cap(orthanc_plan: AreaPlan) -> None:
    """A server that caps every answer at 2 results (PS3.18 8.3.4.4.1 maxResults, no minimum) keeps the paging
    promises: the paging checks pass through a proxy that cuts every answer to 2."""
    control = orthanc_plan.control
    nodes = sorted(node for node, check in control.checks.items() if check.requirement in PAGING)
    assert nodes, "no paging checks in the control run"
    run = orthanc_plan.runner.submit((CAP_RESULTS_AT_TWO,), nodes).result()
    assert run.hits.get(CAP_RESULTS_AT_TWO.name, 0) > 0, run.output
    for requirement in PAGING:
        assert outcomes_of(run, requirement) == {"PASS"}, describe(run.for_requirement(requirement))
