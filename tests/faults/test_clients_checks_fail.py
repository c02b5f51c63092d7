"""Every dicomweb-client profile check (suites/clients, CL-DWC-*) can fail, and can pass: the profile runs through a
fault proxy in front of a real Orthanc 1.10.1 (standard profile).

- control: no rule. A requirement Orthanc meets for the client reports PASS; one it breaks (the four failures
  declared in targets/orthanc.toml: frames with type="*/*" 400, the study and the JPEG 2000 series retrieved in the
  default syntax 500, the JPEG 2000 instance rendered 400) reports FAIL.
- repair: a rule that hides the failure; the checks must then PASS, so they are not checks that always fail.
- fault: a rule breaking exactly what the client needs (on top of the repair where the requirement needs one); every
  check of the requirement must then FAIL.

The facade forwards to Orthanc: the CL-DWC requirements are judged here, on Orthanc (an ORTHANC_CASES entry covers
the facade too in tests/faults/test_every_check_can_fail.py). The cases, their runs and the tests are those of
area_harness.py; the rules are in rules_clients.py.

Two answers that look wrong do not break the client, and the checks rightly pass them: a search or metadata answer
under another Content-Type (the client calls response.json() whatever the type; a body that is not JSON is the
fault here), and a metadata answer that is one JSON object (the client wraps it in a list: only the study's three
datasets are lost; the fault here drops a dataset, which every level sees).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.faults.area_harness import BY_REQUIREMENT, FaultArea, suite_pool_fixture
from tests.faults.rules import ProxyRule
from tests.faults.rules_clients import CLIENT_FAULTS, CLIENT_REPAIRS

CLIENT_CHECKS = ["suites/clients/test_client_dicomweb_client.py"]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: Orthanc breaks the requirement for the client; this rule hides that

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # The repair is outermost (FaultProxy applies the first rule outermost): the fault breaks the repaired answer.
        repair = (CLIENT_REPAIRS[self.repair],) if self.repair else ()
        return repair + ((CLIENT_FAULTS[fault],) if fault else ())


ORTHANC_CASES: dict[str, Expectation] = {
    "CL-DWC-QIDO-ACCEPT": Expectation(("dwc-search-not-json", "dwc-search-finds-nothing")),
    "CL-DWC-QIDO-EMPTY": Expectation(("dwc-empty-search-404", "dwc-empty-search-a-dataset")),
    "CL-DWC-QIDO-PAGING": Expectation(("dwc-paging-offset-ignored", "dwc-paging-repeats-a-match")),
    "CL-DWC-META": Expectation(("dwc-metadata-drops-a-dataset", "dwc-metadata-not-json")),
    # Orthanc 1.10.1 answers 500 to the study and the JPEG 2000 series in the default syntax (no decoder).
    "CL-DWC-RETRIEVE-DEFAULT": Expectation(
        ("dwc-retrieve-drops-a-part", "dwc-retrieve-part-not-part-10"), repair="repair-dwc-retrieve-as-stored"
    ),
    "CL-DWC-RETRIEVE-INSTANCE": Expectation(("dwc-instance-part-repeated", "dwc-retrieve-part-not-part-10")),
    "CL-DWC-MULTIPART": Expectation(("dwc-multipart-without-boundary", "dwc-multipart-lf-only")),
    # Orthanc 1.10.1 answers 400 to type="*/*", the client's default for frames.
    "CL-DWC-FRAMES-DEFAULT": Expectation(
        ("dwc-frames-drop-a-part", "dwc-frames-empty-parts"), repair="repair-dwc-frames-as-stored"
    ),
    "CL-DWC-FRAMES-TS": Expectation(("dwc-frames-drop-a-part", "dwc-frames-empty-parts")),
    # Orthanc 1.10.1 answers 400 to rendering the JPEG 2000 instance (no decoder).
    "CL-DWC-RENDERED": Expectation(
        ("dwc-rendered-empty-body", "dwc-rendered-500"), repair="repair-dwc-rendered-stand-in"
    ),
    "CL-DWC-STOW": Expectation(("dwc-stow-stores-nothing", "dwc-stow-500")),
    "CL-DWC-STOW-RESPONSE": Expectation(("dwc-stow-response-other-type", "dwc-stow-response-no-references")),
}

CLIENTS = FaultArea(
    name="clients",
    selection=CLIENT_CHECKS,
    tables={"orthanc": ORTHANC_CASES},
    keying=BY_REQUIREMENT,
)

suite_pool = suite_pool_fixture(CLIENTS.name)
orthanc_plan = CLIENTS.plan_fixture("orthanc")
plan = CLIENTS.case_plan_fixture()

test_every_clients_requirement_is_covered = CLIENTS.coverage_test()
test_control = CLIENTS.control_test()
test_repaired_deviation_passes = CLIENTS.repair_test()
test_fault_makes_the_checks_fail = CLIENTS.fault_test()
