"""Every browser-access check (suites/clients/test_client_cors.py, CL-OHIF-CORS-*, CL-CS3D-CORS-*) can fail, and can
pass: the checks run with `[cors] origin` set, through a fault proxy in front of a real Orthanc 1.10.1.

- control: no rule. Orthanc has no CORS support (its preflight answer is 404, no answer carries
  Access-Control-Allow-Origin): every requirement reports FAIL.
- repair: the CORS layer of rules_clients_cors.py alone (what a reverse proxy in front of Orthanc adds); every
  check must then PASS.
- fault: a rule outside the layer that breaks exactly one thing a browser needs; every check of the requirement
  must then FAIL.

Cornerstone's frame request needs no preflight, so the preflight faults leave CL-CS3D-CORS-FRAMES passing (the
browser agrees: tests/integration/test_cors_in_browser.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.faults.area_harness import BY_REQUIREMENT, FaultArea, suite_pool_fixture, without_deviations
from tests.faults.rules import ProxyRule
from tests.faults.rules_clients_cors import CORS_FAULTS, CORS_REPAIRS

CORS_CHECKS = ["suites/clients/test_client_cors.py"]
VIEWER_ORIGIN = "http://127.0.0.1:8999"  # never contacted: the checks send it as a browser would


def with_viewer_origin(target: Path, destination: Path) -> Path:
    """The server's target file without its deviations, naming the viewer's origin."""
    without_deviations(target, destination)
    destination.write_text(destination.read_text() + f'\n[cors]\norigin = "{VIEWER_ORIGIN}"\n')
    return destination


@dataclass(frozen=True)
class Expectation:
    faults: tuple[str, ...] = ()
    repair: str | None = "cors-layer"  # Orthanc has no CORS at all: every requirement fails without the layer

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # The fault is outermost (FaultProxy applies the first rule outermost): it changes what the layer answers.
        repair = (CORS_REPAIRS[self.repair],) if self.repair else ()
        return ((CORS_FAULTS[fault],) if fault else ()) + repair


ORTHANC_CASES: dict[str, Expectation] = {
    "CL-OHIF-CORS-PREFLIGHT": Expectation(("cors-preflight-404",)),
    "CL-OHIF-CORS-ALLOW-ORIGIN": Expectation(("cors-wrong-origin",)),
    "CL-OHIF-CORS-ALLOW-AUTHORIZATION": Expectation(("cors-no-allow-authorization",)),
    "CL-OHIF-CORS-AUTHORIZATION-NAMED": Expectation(("cors-allow-headers-wildcard", "cors-no-allow-authorization")),
    "CL-OHIF-CORS-ALLOW-ACCEPT": Expectation(("cors-no-allow-accept",)),
    "CL-OHIF-CORS-ALLOW-CONTENT-TYPE": Expectation(("cors-no-allow-content-type",)),
    "CL-OHIF-CORS-ERRORS": Expectation(("cors-no-origin-on-errors", "cors-wrong-origin")),
    "CL-CS3D-CORS-FRAMES": Expectation(("cors-wrong-origin",)),
    "CL-CS3D-CORS-ERRORS": Expectation(("cors-no-origin-on-errors",)),
}

CLIENTS_CORS = FaultArea(
    name="clients-cors",
    selection=CORS_CHECKS,
    tables={"orthanc": ORTHANC_CASES},
    keying=BY_REQUIREMENT,
    target_copy=with_viewer_origin,
)

suite_pool = suite_pool_fixture(CLIENTS_CORS.name)
orthanc_plan = CLIENTS_CORS.plan_fixture("orthanc")
plan = CLIENTS_CORS.case_plan_fixture()

test_every_clients_cors_requirement_is_covered = CLIENTS_CORS.coverage_test()
test_control = CLIENTS_CORS.control_test()
test_repaired_deviation_passes = CLIENTS_CORS.repair_test()
test_fault_makes_the_checks_fail = CLIENTS_CORS.fault_test()
