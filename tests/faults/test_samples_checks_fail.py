"""Every per-file check (suites/samples, DW-DATA-001..011) can fail, and can pass: the scenarios run through a fault
proxy in front of a real Orthanc (standard profile), on a small sample folder of its own.

- control: no rule. A requirement Orthanc meets on these files reports PASS; one it breaks (a confirmed deviation,
  targets/orthanc.toml) reports FAIL.
- repair: a rule that hides a deviation; the checks must then PASS, so they are not checks that always fail.
- fault: a rule that breaks one promise (on top of the repair where the requirement needs one); every check of the
  requirement must then FAIL.

The folder holds three built-in corpus files, each compressed so that no check is NOT-APPLICABLE (DW-DATA-009 is for
compressed files only, and a requirement is judged on all its checks at once): JPEG-LS lossless (CT, 16-bit signed),
JPEG baseline (RGB, lossy) and JPEG-LS lossless multi-frame (Enhanced MR, 120 frames). DW-DATA-012 (DELETE) needs the
`delete` capability, which Orthanc does not claim: it is judged on the Azure facade over Orthanc (azure profile).

The cases, their runs and the tests are those of area_harness.py; the rules are in rules_samples.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dicomweb_conformance.corpora.compressed import built_in_files
from tests.faults.area_harness import BY_REQUIREMENT, FaultArea, suite_pool_fixture
from tests.faults.rules import FAULTS, ProxyRule
from tests.faults.rules_samples import SAMPLE_FAULTS, SAMPLE_REPAIRS

SAMPLE_CHECKS = ["suites/samples/test_sample_files.py"]
# The per-file faults, and the delete fault of the Azure rules (rules.py): a 204 that deletes nothing.
_FAULTS = SAMPLE_FAULTS | {"del-instance-204-without-deleting": FAULTS["del-instance-204-without-deleting"]}
SAMPLE_FILES = ("ct16s_jpegls_lossless.dcm", "rgb_jpeg_baseline.dcm", "enhmr120_jpegls_lossless.dcm")


@dataclass(frozen=True)
class Expectation:
    """How a requirement is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # set: the server breaks the requirement on these files; this rule hides that

    @property
    def fails_without_rules(self) -> bool:
        return self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # The repair is outermost (FaultProxy applies the first rule outermost): the fault breaks the repaired answer.
        repair = (SAMPLE_REPAIRS[self.repair],) if self.repair else ()
        return repair + ((_FAULTS[fault],) if fault else ())


_FRAMES = ("sample-frames-garbled",)

ORTHANC_CASES: dict[str, Expectation] = {
    "DW-DATA-001": Expectation(("sample-stow-500",)),
    "DW-DATA-002": Expectation(("sample-any-syntax-drops-patient-name",)),
    "DW-DATA-003": Expectation(("sample-default-syntax-500", "sample-default-syntax-big-endian")),
    # Orthanc 1.10.1 leaves encapsulated Pixel Data out of the metadata (targets/orthanc.toml, DW-DATA-004).
    "DW-DATA-004": Expectation(("sample-metadata-drops-patient-name",), repair="repair-sample-pixel-data-uri"),
    "DW-DATA-005": Expectation(("sample-uid-search-repeats-a-match",)),
    # Orthanc does not percent-decode PatientName=...%5E... (targets/orthanc.toml, test_found_by_attribute).
    "DW-DATA-006": Expectation(("sample-attribute-search-finds-nothing",), repair="repair-sample-patient-name"),
    "DW-DATA-007": Expectation(_FRAMES),
    "DW-DATA-008": Expectation((*_FRAMES, "sample-frames-default-500")),
    "DW-DATA-009": Expectation((*_FRAMES, "sample-natural-frames-mislabelled")),
    "DW-DATA-010": Expectation(("sample-mismatch-served",)),
    "DW-DATA-011": Expectation(("sample-rendered-not-an-image",)),
}

# DW-DATA-012 needs `delete`, which only the facade claims; the others are judged on Orthanc above (the facade
# forwards WADO and QIDO to Orthanc).
FACADE_CASES: dict[str, Expectation] = {
    "DW-DATA-012": Expectation(("del-instance-204-without-deleting",)),
}


def sample_folder_copy(target: Path, destination: Path) -> Path:
    """`target` without its [[deviation]] entries, claiming the rendered resources, its samples a folder of
    SAMPLE_FILES written beside `destination`."""
    folder = destination.parent / "samples"
    folder.mkdir(exist_ok=True)
    for built_in in built_in_files():
        if built_in.name in SAMPLE_FILES:
            (folder / built_in.name).write_bytes(built_in.data)
    text = target.read_text().split("\n[[deviation]]")[0]
    if '"wado.rendered"' not in text:
        text = text.replace("\nwado = true\n", '\nwado = true\n"wado.rendered" = true\n', 1)
    destination.write_text(f'{text.rstrip()}\n\n[samples]\ndir = "{folder.as_posix()}"\n')
    return destination


SAMPLES = FaultArea(
    name="samples",
    selection=SAMPLE_CHECKS,
    tables={"orthanc": ORTHANC_CASES, "facade": FACADE_CASES},
    keying=BY_REQUIREMENT,
    target_copy=sample_folder_copy,
    judged_elsewhere={"facade": set(ORTHANC_CASES)},
)

suite_pool = suite_pool_fixture(SAMPLES.name)
orthanc_plan = SAMPLES.plan_fixture("orthanc")
facade_plan = SAMPLES.plan_fixture("facade")
plan = SAMPLES.case_plan_fixture()

test_every_samples_requirement_is_covered = SAMPLES.coverage_test()
test_control = SAMPLES.control_test()
test_repaired_deviation_passes = SAMPLES.repair_test()
test_fault_makes_the_checks_fail = SAMPLES.fault_test()
