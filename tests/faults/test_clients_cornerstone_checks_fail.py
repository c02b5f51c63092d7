"""Every cornerstone3D profile check (suites/clients/test_client_cornerstone.py, CL-CS3D-*) can fail, and can pass:
the profile runs through a fault proxy in front of a real Orthanc 1.10.1 (standard profile).

- control: no rule. CL-CS3D-METADATA reports PASS; the three frames requirements FAIL on the Deflated image (Orthanc
  1.10.1 answers its frames 500: the deviations declared in targets/orthanc.toml) and PASS on every other.
- repair: the rule asking for that frame again in Explicit VR Little Endian; the checks must then PASS.
- fault: a rule breaking exactly what the loader needs (on top of the repair where there is one); every check of the
  requirement must then FAIL.

A fault on the frames answer also fails the checks of the later steps (a frame that is not cut out has no syntax and
no pixels); each requirement is listed with the faults that break its own step. The facade forwards to Orthanc: the
requirements are judged here. Rules: rules_clients_cornerstone.py; cases and runs: area_harness.py.

One answer that looks wrong does not break every check and is not a fault here: a part header spelled
'content-type:' (the loader then assumes Implicit VR Little Endian, which decodes a native frame correctly and
fails only the compressed ones).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.faults.area_harness import BY_REQUIREMENT, FaultArea, suite_pool_fixture
from tests.faults.rules import ProxyRule
from tests.faults.rules_clients_cornerstone import CORNERSTONE_FAULTS, CORNERSTONE_REPAIRS

CORNERSTONE_CHECKS = ["suites/clients/test_client_cornerstone.py"]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: Orthanc breaks the requirement for the loader; this rule hides that

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # The repair is outermost: the fault breaks the repaired answer too.
        repair = (CORNERSTONE_REPAIRS[self.repair],) if self.repair else ()
        return repair + ((CORNERSTONE_FAULTS[fault],) if fault else ())


_DEFLATED = "repair-cs3d-deflated-as-explicit"
ORTHANC_CASES: dict[str, Expectation] = {
    "CL-CS3D-FRAMES-MULTIPART": Expectation(
        ("cs3d-frames-lf-only", "cs3d-frames-unterminated", "cs3d-frames-404"), repair=_DEFLATED
    ),
    "CL-CS3D-FRAMES-TS": Expectation(("cs3d-frames-syntax-swapped", "cs3d-frames-syntax-star"), repair=_DEFLATED),
    "CL-CS3D-FRAMES-PIXELS": Expectation(("cs3d-frames-pixels-inverted",), repair=_DEFLATED),
    "CL-CS3D-METADATA": Expectation(("cs3d-metadata-other-rows", "cs3d-metadata-no-pixel-module")),
}

CORNERSTONE = FaultArea(
    name="clients_cornerstone",
    selection=CORNERSTONE_CHECKS,
    tables={"orthanc": ORTHANC_CASES},
    keying=BY_REQUIREMENT,
)

suite_pool = suite_pool_fixture(CORNERSTONE.name)
orthanc_plan = CORNERSTONE.plan_fixture("orthanc")
plan = CORNERSTONE.case_plan_fixture()

test_every_cornerstone_requirement_is_covered = CORNERSTONE.coverage_test()
test_control = CORNERSTONE.control_test()
test_repaired_deviation_passes = CORNERSTONE.repair_test()
test_fault_makes_the_checks_fail = CORNERSTONE.fault_test()
