"""Every per-file check (suites/samples, DW-DATA-001..013) can fail, and can pass: the scenarios run through a fault
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

DW-DATA-013 (frames transcoded into JPEG-LS or JPEG 2000) is judged per check, in a second area on a second Orthanc
whose target copy claims the transcoding into JPEG-LS and not the one into JPEG 2000: it is NOT-APPLICABLE to a
JPEG-LS file asked for JPEG-LS, Orthanc makes JPEG-LS (PASS) and answers 500 to JPEG 2000 (FAIL; the repair answers
406, right for an unclaimed transcoding), and a 406 to the claimed JPEG-LS fails.

The cases, their runs and the tests are those of area_harness.py; the rules are in rules_samples.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dicomweb_conformance.corpora.compressed import built_in_files
from tests.faults.area_harness import BY_CHECK_NAME, BY_REQUIREMENT, FaultArea, suite_pool_fixture
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

# DW-DATA-013 (frames transcoded into JPEG-LS or JPEG 2000) is judged per check, in TRANSCODED below: it does not
# apply to a file stored in the syntax asked for (both JPEG-LS files, asked for JPEG-LS), and Orthanc keeps it for
# one syntax and breaks it for the other.
_TRANSCODED = "DW-DATA-013"

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
    judged_elsewhere={"orthanc": {_TRANSCODED}, "facade": {*ORTHANC_CASES, _TRANSCODED}},
)

JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"


def claiming_jpeg_ls(target: Path, destination: Path) -> Path:
    """The sample folder copy, claiming the transcoding into JPEG-LS lossless (Orthanc 1.10.1 makes it) and not
    the one into JPEG 2000 (it makes none): a 406 is then wrong for the first and right for the second."""
    copy = sample_folder_copy(target, destination)
    text = copy.read_text()
    assert "[transfer_syntaxes]" not in text, "the target copy claims transfer syntaxes already"
    copy.write_text(f'{text}\n[transfer_syntaxes]\ntranscodes_to = ["{JPEG_LS_LOSSLESS}"]\n')
    return copy


# Frames garbled, a 500, the stored bitstream declared in the syntax asked for, and uncompressed frames: each breaks
# "in that syntax, decoding to the stored frames, never 5xx". Only the JPEG baseline file can be asked for JPEG-LS.
_INTO_JPEG_LS = (
    "sample-frames-garbled",
    "sample-transcoded-500",
    "sample-transcoded-jpeg-ls-refused",  # claimed: a 406 fails
    "sample-transcoded-stored-bitstream-declared",
    "sample-transcoded-uncompressed",
)
# Orthanc answers 500 to every JPEG 2000 request; the repair answers 406 (not claimed: right). A fault inside the
# repair answers for Orthanc; a garbled or a 500 answer would be repaired to 406, so these faults answer 200.
_INTO_JPEG_2000 = Expectation(
    ("sample-transcoded-stored-bitstream-declared", "sample-transcoded-uncompressed"),
    repair="repair-sample-jpeg-2000-refused",
)

ORTHANC_CHECKS: dict[str, Expectation] = {
    "test_frames_transcoded[rgb_jpeg_baseline.dcm-jpeg-ls]": Expectation(_INTO_JPEG_LS),
    **{f"test_frames_transcoded[{name}-jpeg2000]": _INTO_JPEG_2000 for name in SAMPLE_FILES},
}

TRANSCODED = FaultArea(
    name="samples-transcoded",
    selection=[f"{SAMPLE_CHECKS[0]}::test_frames_transcoded"],
    tables={"orthanc": ORTHANC_CHECKS},
    keying=BY_CHECK_NAME,
    target_copy=claiming_jpeg_ls,
    plans="transcoded_",
)

suite_pool = suite_pool_fixture(SAMPLES.name)
orthanc_plan = SAMPLES.plan_fixture("orthanc")
facade_plan = SAMPLES.plan_fixture("facade")
transcoded_orthanc_plan = TRANSCODED.plan_fixture("orthanc")
plan = SAMPLES.case_plan_fixture()

test_every_samples_requirement_is_covered = SAMPLES.coverage_test()
test_control = SAMPLES.control_test()
test_repaired_deviation_passes = SAMPLES.repair_test()
test_fault_makes_the_checks_fail = SAMPLES.fault_test()

test_every_transcoding_check_is_covered = TRANSCODED.coverage_test()
test_transcoding_control = TRANSCODED.control_test()
test_transcoding_repaired_deviation_passes = TRANSCODED.repair_test()
test_transcoding_fault_makes_the_check_fail = TRANSCODED.fault_test()
