"""Under xdist, the unit a check is handed out in: its module, or its module and sample file."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar, cast

import pytest

from dicomweb_conformance.plugin.scheduling import (
    CHECK_WEIGHTS,
    PROPERTY_FOLDER,
    SAMPLE_MODULE,
    SuiteScheduling,
    unit_weight,
    work_unit,
)

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


class _Gateway:
    def __init__(self, name: str):
        self.id = name


class _Worker:
    def __init__(self, name: str):
        self.gateway = _Gateway(name)
        self.shutting_down = False
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.append(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


class _Config:
    def __init__(self) -> None:
        self.option = SimpleNamespace(loadscopereorder=True)
        self.hook = SimpleNamespace(pytest_collectreport=lambda report: self.collect_reports.append(report))

    collect_reports: ClassVar[list[pytest.CollectReport]] = []

    def getvalue(self, name: str) -> list[str]:
        assert name == "tx"
        return ["3*popen"]


COLLECTION = [
    "suites/qido/test_a.py::test_one",
    "suites/qido/test_a.py::test_two",
    "suites/qido/test_a.py::test_three",
    "suites/properties/test_p.py::test_property",
    "suites/wado/test_b.py::test_one",
]


def _scheduling() -> tuple[SuiteScheduling, list[_Worker]]:
    scheduling = SuiteScheduling(cast(pytest.Config, _Config()), None, [])
    workers = [_Worker(f"gw{index}") for index in range(3)]
    for worker in workers:
        scheduling.add_node(worker)
    return scheduling, workers


def test_work_goes_out_when_the_first_worker_has_collected_the_biggest_unit_first() -> None:
    scheduling, (first, second, third) = _scheduling()
    scheduling.add_node_collection(first, COLLECTION)
    assert scheduling.collection_is_completed
    scheduling.schedule()
    # A property check counts once per example the profile draws (ci: 10), more than the three checks of test_a.
    assert first.sent == [[3]]
    assert second.sent == third.sent == [], "still collecting: nothing sent yet"
    scheduling.add_node_collection(second, COLLECTION)
    scheduling.schedule()
    assert second.sent == [[0, 1, 2]]
    assert not scheduling.tests_finished


def test_a_worker_that_collected_something_else_gets_no_work_and_the_difference_is_reported() -> None:
    scheduling, (first, second, _) = _scheduling()
    scheduling.add_node_collection(first, COLLECTION)
    scheduling.schedule()
    scheduling.add_node_collection(second, COLLECTION[:-1])
    scheduling.schedule()
    assert second.sent == []
    assert second.shutting_down
    assert _Config.collect_reports[-1].outcome == "failed"


def test_a_worker_done_collecting_after_the_last_unit_went_out_is_shut_down() -> None:
    scheduling, (first, second, _) = _scheduling()
    scheduling.add_node_collection(first, COLLECTION[-1:])
    scheduling.schedule()
    assert first.sent == [[0]]
    scheduling.add_node_collection(second, COLLECTION[-1:])
    scheduling.schedule()
    assert second.sent == []
    assert second.shutting_down


def test_unit_weight_counts_each_example_of_a_property_check_and_a_large_body_check_as_several() -> None:
    assert unit_weight(COLLECTION, 10) == 14
    assert unit_weight(["suites/stow/test_stow_large.py::test_a_chunked_body_is_stored"], 10) == 10


def test_the_paths_the_scheduler_names_exist() -> None:
    """A module renamed under the scheduler would silently lose its weight or its per-file units."""
    root = Path(__file__).resolve().parents[2]
    for path in [*CHECK_WEIGHTS, PROPERTY_FOLDER, f"suites/{SAMPLE_MODULE}"]:
        assert (root / path).exists(), path
