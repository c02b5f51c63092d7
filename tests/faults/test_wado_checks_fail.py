"""Every WADO-RS depth check can fail, and can pass: the suite's five WADO depth modules run through a fault
proxy in front of a real Orthanc (standard profile) and of the Azure facade over Orthanc (azure profile).

- control: no rule. A requirement the server meets reports PASS; one the server breaks (a confirmed
  deviation, so the check is seen failing against a real server) reports FAIL.
- repair: a rule that hides that deviation; the check must then PASS, so it is not a check that always fails.
- fault: a rule that breaks one promise (on top of the repair where the check cannot pass without it);
  every check of the requirement must then FAIL.

The cases, their runs and the tests are those of area_harness.py, over the runner and the proxy of
test_every_check_can_fail.py; the rules are in rules_wado.py. Target files are copies of the project's own,
claiming "wado.rendered" (Orthanc renders) and with no [[deviation]] entries, so every check reports its
plain verdict (--dicomweb-strict: MAY and SHOULD failures are FAIL too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.faults.area_harness import BY_REQUIREMENT, FaultArea, suite_pool_fixture
from tests.faults.rules import ProxyRule
from tests.faults.rules_wado import WADO_FAULTS, WADO_REPAIRS

WADO_TOPICS = ("negotiation", "transfer_syntax", "frames", "rendered", "not_found")
WADO_CHECKS = [f"suites/wado/test_wado_{topic}.py" for topic in WADO_TOPICS]


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: the server breaks the requirement; this rule hides that
    faults_need_repair: bool = False  # the faults go with the repair
    fault_outermost: bool = False  # the fault changes the repaired answer, rather than what the repair sees

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        repair = (WADO_REPAIRS[self.repair],) if self.repair and (fault is None or self.faults_need_repair) else ()
        broken = (WADO_FAULTS[fault],) if fault else ()
        # FaultProxy applies rules in order, the first one outermost.
        return broken + repair if self.fault_outermost else repair + broken


_NOT_ACCEPTABLE = Expectation(repair="repair-wado-not-acceptable")
_TRANSCODING = Expectation(
    ("wado-ignores-transfer-syntax", "wado-transcoding-changes-pixels", "wado-transcoding-drops-patient-name")
)
_FRAME_ORDER = Expectation(("frames-reverses-parts", "frames-flips-a-byte-any-accept"))
_FRAME_BYTES = Expectation(("frames-flips-a-byte-any-accept",))
_IMAGE = Expectation(("rendered-swaps-width-and-height", "rendered-not-an-image"))
_NOT_FOUND = Expectation(("wado-404-as-400", "wado-404-with-a-representation"))

ORTHANC_CASES: dict[str, Expectation] = {
    "DW-WADO-100": Expectation(("wado-unquoted-type-refused",)),
    "DW-WADO-101": Expectation(repair="repair-wado-accept-list"),
    "DW-WADO-102": Expectation(("wado-lowest-q-wins",), repair="repair-wado-q-values"),
    "DW-WADO-103": Expectation(repair="repair-wado-q-zero"),
    "DW-WADO-109": Expectation(repair="repair-wado-no-accept"),
    "DW-WADO-104": Expectation(("wado-any-serves-stored-syntax",)),
    "DW-WADO-105": _NOT_ACCEPTABLE,
    "DW-WADO-106": _NOT_ACCEPTABLE,
    "DW-WADO-107": _NOT_ACCEPTABLE,
    "DW-WADO-108": Expectation(("wado-answer-without-type",)),
    "DW-WADO-110": _TRANSCODING,
    "DW-WADO-111": _TRANSCODING,
    "DW-WADO-112": _TRANSCODING,
    "DW-WADO-113": Expectation(repair="repair-wado-forbidden-syntax"),
    "DW-WADO-114": Expectation(("wado-any-syntax-big-endian", "wado-any-syntax-transcoding-drops-patient-name")),
    "DW-WADO-115": Expectation(("wado-parts-declare-jpeg-baseline",)),
    "DW-WADO-116": Expectation(
        ("wado-parts-declare-jpeg-baseline",),
        repair="repair-wado-part-syntax",
        faults_need_repair=True,
        fault_outermost=True,
    ),
    "DW-WADO-117": Expectation(
        ("wado-unsupported-syntax-served-big-endian",), repair="repair-wado-unsupported-syntax-as-default"
    ),
    "DW-WADO-120": _FRAME_ORDER,
    "DW-WADO-121": _FRAME_ORDER,
    "DW-WADO-122": _FRAME_BYTES,
    "DW-WADO-123": Expectation(("frames-bad-number-404",)),
    "DW-WADO-124": Expectation(repair="repair-frames-past-the-end"),
    "DW-WADO-125": Expectation(repair="repair-wado-no-accept"),
    "DW-WADO-126": Expectation(
        ("frames-flips-a-byte-any-accept",), repair="repair-frames-single-part", faults_need_repair=True
    ),
    "DW-WADO-127": _FRAME_BYTES,
    "DW-WADO-128": _FRAME_BYTES,
    "DW-WADO-129": Expectation(
        ("frames-flips-a-byte-any-accept",),
        repair="repair-wado-unsupported-syntax-as-default",
        faults_need_repair=True,
    ),
    "DW-WADO-130": _NOT_ACCEPTABLE,
    "DW-WADO-131": _FRAME_ORDER,
    "DW-WADO-132": Expectation(repair="repair-frames-type-parameter"),
    "DW-WADO-140": _IMAGE,
    "DW-WADO-141": _IMAGE,
    "DW-WADO-142": Expectation(("rendered-frame-always-first",)),
    "DW-WADO-143": Expectation(repair="repair-wado-no-accept"),
    "DW-WADO-144": Expectation(repair="repair-frames-past-the-end"),
    "DW-WADO-145": _NOT_ACCEPTABLE,
    "DW-WADO-160": _NOT_FOUND,
    "DW-WADO-161": _NOT_FOUND,
    "DW-WADO-162": _NOT_FOUND,
    "DW-WADO-163": _NOT_FOUND,
}

# The requirements only the azure profile adds; the DW-* ones are judged on Orthanc above.
FACADE_CASES: dict[str, Expectation] = {
    "AZ-WADO-101": Expectation(repair="repair-facade-several-instances"),
    "AZ-WADO-102": Expectation(("frames-single-part-many-200",)),
    "AZ-WADO-103": Expectation(("frames-encoded-list-first-only",)),
    "AZ-WADO-104": Expectation(("rendered-ignores-quality",)),
    "AZ-WADO-105": Expectation(("rendered-instance-shows-last-frame",)),
    "AZ-WADO-106": _IMAGE,
}


def rendered_copy(target: Path, destination: Path) -> Path:
    """`target` without its [[deviation]] entries, claiming the rendered resources."""
    text = target.read_text().split("\n[[deviation]]")[0]
    if '"wado.rendered"' not in text:
        text = text.replace("\nwado = true\n", '\nwado = true\n"wado.rendered" = true\n', 1)
    destination.write_text(text)
    return destination


WADO = FaultArea(
    name="wado",
    selection=WADO_CHECKS,
    tables={"orthanc": ORTHANC_CASES, "facade": FACADE_CASES},
    keying=BY_REQUIREMENT,
    target_copy=rendered_copy,
    judged_elsewhere={"facade": set(ORTHANC_CASES)},
)

suite_pool = suite_pool_fixture(WADO.name)
orthanc_plan = WADO.plan_fixture("orthanc")
facade_plan = WADO.plan_fixture("facade")
plan = WADO.case_plan_fixture()

test_every_wado_requirement_is_covered = WADO.coverage_test()
test_control = WADO.control_test()
test_repaired_deviation_passes = WADO.repair_test()
test_fault_makes_the_checks_fail = WADO.fault_test()
