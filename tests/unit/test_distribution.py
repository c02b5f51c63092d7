"""Under xdist, the unit a check is handed out in: its module, or its module and sample file."""

from __future__ import annotations

from dicomweb_conformance.plugin.distribution import work_unit

SAMPLES = "suites/samples/test_sample_files.py"
CASES = ["ct16s_explicit.dcm", "ct16s_explicit.dcm-copy", "mr/b.dcm"]


def test_a_check_of_any_other_module_goes_with_its_module() -> None:
    assert (
        work_unit("suites/qido/test_qido_paging.py::test_walk_pages[series]", CASES)
        == "suites/qido/test_qido_paging.py"
    )
    assert work_unit("suites/wado/test_wado_study.py::test_study", CASES) == "suites/wado/test_wado_study.py"


def test_a_sample_file_check_goes_with_its_file_wherever_the_id_sits() -> None:
    for name in ("test_stored[mr/b.dcm]", "test_found_by_attribute[mr/b.dcm-PatientName]", "test_x[first-mr/b.dcm]"):
        assert work_unit(f"{SAMPLES}::{name}", CASES) == f"{SAMPLES}::mr/b.dcm", name


def test_the_longest_file_id_that_fits_wins() -> None:
    assert work_unit(f"{SAMPLES}::test_frames[ct16s_explicit.dcm-copy-first]", CASES) == (
        f"{SAMPLES}::ct16s_explicit.dcm-copy"
    )
    assert work_unit(f"{SAMPLES}::test_frames[ct16s_explicit.dcm-first]", CASES) == f"{SAMPLES}::ct16s_explicit.dcm"


def test_an_id_naming_no_known_file_stays_with_the_module() -> None:
    assert work_unit(f"{SAMPLES}::test_stored[other.dcm]", CASES) == SAMPLES
    assert work_unit(f"{SAMPLES}::test_without_parameters", CASES) == SAMPLES
