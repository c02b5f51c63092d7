"""Every OHIF profile check (suites/clients/test_client_ohif.py, CL-OHIF-*) can fail, and can pass: the profile runs
through a fault proxy in front of a real Orthanc 1.10.1 (standard profile).

- control: no rule. A requirement Orthanc meets for OHIF reports PASS; one it breaks (the three failures declared in
  targets/orthanc.toml: the percent-encoded includefield lists of the study and series lists, the backslash UID list)
  reports FAIL.
- repair: a rule that hides the failure (the lists sent with literal commas); the checks must then PASS.
- fault: a rule breaking exactly what OHIF needs (on top of the repair where the requirement needs one); every check
  of the requirement must then FAIL.

The facade forwards to Orthanc: the CL-OHIF requirements are judged here, on Orthanc. The cases, their runs and the
tests are those of area_harness.py; the rules are in rules_clients_ohif.py.

Answers that look wrong but do not break OHIF, which the checks rightly pass: a search answer that is not JSON, or
a JSON object instead of an array (the JS client resolves null, OHIF shows an empty list: only the checks that
need the study fail), and 204 for an empty search.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.faults.area_harness import BY_REQUIREMENT, FaultArea, suite_pool_fixture
from tests.faults.rules import ProxyRule
from tests.faults.rules_clients_ohif import OHIF_FAULTS, OHIF_REPAIRS

OHIF_CHECKS = ["suites/clients/test_client_ohif.py"]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: Orthanc breaks the requirement for OHIF; this rule hides that

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # The repair is outermost (FaultProxy applies the first rule outermost): the fault breaks the repaired answer.
        repair = (OHIF_REPAIRS[self.repair],) if self.repair else ()
        return repair + ((OHIF_FAULTS[fault],) if fault else ())


_COMMAS = "repair-ohif-includefield-commas"

ORTHANC_CASES: dict[str, Expectation] = {
    # Orthanc 1.10.1 ignores includefield=00081030%2C...: StudyDescription is missing.
    "CL-OHIF-STUDY-INCLUDEFIELD": Expectation(("ohif-study-description-dropped",), repair=_COMMAS),
    "CL-OHIF-STUDY-ATTRS": Expectation(
        ("ohif-study-count-off", "ohif-study-name-not-pn", "ohif-study-modalities-dropped")
    ),
    "CL-OHIF-STUDY-WILDCARD": Expectation(("ohif-wildcard-finds-nothing", "ohif-wildcard-400")),
    "CL-OHIF-STUDY-MODALITIES": Expectation(("ohif-modalities-find-nothing", "ohif-modalities-400")),
    # Orthanc 1.10.1 matches no backslash UID list.
    "CL-OHIF-STUDY-UIDLIST": Expectation(
        ("ohif-uid-list-finds-nothing", "ohif-uid-list-500"), repair="repair-ohif-uid-list-commas"
    ),
    "CL-OHIF-STUDY-EMPTY": Expectation(("ohif-empty-search-404", "ohif-empty-search-a-study")),
    "CL-OHIF-PAGE-OFFSET": Expectation(("ohif-offset-ignored", "ohif-offset-500")),
    # Orthanc 1.10.1 ignores includefield=0008103E%2C00080021: SeriesDate is missing.
    "CL-OHIF-SERIES-INCLUDEFIELD": Expectation(("ohif-series-date-dropped",), repair=_COMMAS),
    "CL-OHIF-SERIES-ATTRS": Expectation(("ohif-series-count-dropped", "ohif-series-list-drops-one")),
    "CL-OHIF-METADATA-LAZY": Expectation(("ohif-lazy-series-search-drops-one", "ohif-lazy-metadata-without-rows")),
    "CL-OHIF-METADATA-SYNC": Expectation(("ohif-sync-metadata-drops-one", "ohif-sync-metadata-without-frames")),
    "CL-OHIF-FRAMES": Expectation(("ohif-frames-other-syntax", "ohif-frames-lf-only", "ohif-frames-406")),
    "CL-OHIF-STOW-SR": Expectation(("ohif-stow-stores-nothing", "ohif-stow-409")),
}

CLIENTS_OHIF = FaultArea(
    name="clients-ohif",
    selection=OHIF_CHECKS,
    tables={"orthanc": ORTHANC_CASES},
    keying=BY_REQUIREMENT,
)

suite_pool = suite_pool_fixture(CLIENTS_OHIF.name)
orthanc_plan = CLIENTS_OHIF.plan_fixture("orthanc")
plan = CLIENTS_OHIF.case_plan_fixture()

test_every_clients_ohif_requirement_is_covered = CLIENTS_OHIF.coverage_test()
test_control = CLIENTS_OHIF.control_test()
test_repaired_deviation_passes = CLIENTS_OHIF.repair_test()
test_fault_makes_the_checks_fail = CLIENTS_OHIF.fault_test()
