"""Every 3D Slicer profile check (suites/clients/test_client_slicer.py, CL-SLICER-*) can fail, and can pass: the
profile runs through a fault proxy in front of a real Orthanc 1.10.1 (standard profile).

- control: no rule. A requirement Orthanc meets for Slicer reports PASS; one it breaks (the JPEG 2000 series
  downloaded in the default syntax: 500, declared in targets/orthanc.toml) reports FAIL.
- repair: a rule that hides the failure (the series asked for as stored); the checks must then PASS.
- fault: a rule breaking exactly what Slicer needs (on top of the repair where the requirement needs one); every
  check of the requirement must then FAIL.

The facade forwards to Orthanc: the requirements are judged here. Cases, runs and tests: area_harness.py; rules:
rules_clients_slicer.py. A server that ignores offset does not break Slicer (it stops on the repeated first item, the
list complete): the paging faults are pages that never end and an offset without a limit refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.faults.area_harness import BY_REQUIREMENT, AreaPlan, FaultArea, suite_pool_fixture
from tests.faults.rules import ProxyRule
from tests.faults.rules_clients_slicer import SLICER_FAULTS, SLICER_REPAIRS, STUDY_LIST_CHANGING

SLICER_CHECKS = ["suites/clients/test_client_slicer.py"]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: Orthanc breaks the requirement for Slicer; this rule hides that

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        repair = (SLICER_REPAIRS[self.repair],) if self.repair else ()
        return repair + ((SLICER_FAULTS[fault],) if fault else ())


ORTHANC_CASES: dict[str, Expectation] = {
    "CL-SLICER-STUDY-LIST": Expectation(
        ("slicer-study-list-400", "slicer-study-list-drops-the-study", "slicer-study-list-repeats")
    ),
    "CL-SLICER-STUDY-COLUMNS": Expectation(("slicer-study-list-pn-as-string", "slicer-study-list-no-modalities")),
    "CL-SLICER-PAGING": Expectation(("slicer-pages-never-end", "slicer-pages-400")),
    "CL-SLICER-SERIES": Expectation(("slicer-series-without-uid", "slicer-series-without-description")),
    # Orthanc 1.10.1 answers 500 to the JPEG 2000 series in the default syntax (no decoder).
    "CL-SLICER-DOWNLOAD": Expectation(
        ("slicer-instance-search-500", "dwc-retrieve-drops-a-part"), repair="repair-dwc-retrieve-as-stored"
    ),
    "CL-SLICER-IMPORT": Expectation(
        ("slicer-import-series-search-500", "slicer-import-metadata-without-sop-uid", "dwc-retrieve-part-not-part-10"),
        repair="repair-dwc-retrieve-as-stored",
    ),
}

CLIENTS_SLICER = FaultArea(
    name="clients_slicer",
    selection=SLICER_CHECKS,
    tables={"orthanc": ORTHANC_CASES},
    keying=BY_REQUIREMENT,
)

suite_pool = suite_pool_fixture(CLIENTS_SLICER.name)
orthanc_plan = CLIENTS_SLICER.plan_fixture("orthanc")
plan = CLIENTS_SLICER.case_plan_fixture()

test_every_clients_slicer_requirement_is_covered = CLIENTS_SLICER.coverage_test()
test_control = CLIENTS_SLICER.control_test()
test_repaired_deviation_passes = CLIENTS_SLICER.repair_test()
test_fault_makes_the_checks_fail = CLIENTS_SLICER.fault_test()


def test_a_study_list_that_changes_under_every_walk_is_judged_on_the_last(orthanc_plan: AreaPlan) -> None:
    """The study list is every study on the server: another client storing while it is paged shifts its pages. The
    checks judge a walk the next one saw page for page; when every walk differs, the last one as Slicer would have
    shown it, never without a verdict: a list that changes but pages well passes, one that also repeats a study
    fails and says the list kept changing."""
    walked = [node for node in orthanc_plan.control.checks if "test_slicer_study_" in node]
    assert len(walked) == 2, walked  # the study list and its columns
    changing = orthanc_plan.runner.run((STUDY_LIST_CHANGING,), walked)
    assert {node: changing.checks[node].outcome for node in walked} == dict.fromkeys(walked, "PASS"), changing.output
    assert changing.hits[STUDY_LIST_CHANGING.name] >= 2 * 4, changing.hits  # each check walked the list 4 times
    repeats = (STUDY_LIST_CHANGING, SLICER_FAULTS["slicer-study-list-repeats"])
    repeating = orthanc_plan.runner.run(repeats, walked)
    assert {node: repeating.checks[node].outcome for node in walked} == dict.fromkeys(walked, "FAIL"), repeating.output
    assert all(
        "a page repeats listed items" in repeating.checks[node].message
        and "the list also changed between each of 4 walks" in repeating.checks[node].message
        for node in walked
    ), repeating.output
