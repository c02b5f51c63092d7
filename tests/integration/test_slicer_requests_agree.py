"""The CL-SLICER verdicts are what Slicer's calls of the real dicomweb-client 0.61.2 do. Slicer cannot run here; its
DICOMweb code is a sequence of library calls, reproduced below as the browser (SlicerDICOMwebBrowser @01ee03dd
DICOMwebBrowser.py) and Slicer's import (DICOMUtils.importFromDICOMWeb @583e9b37) make them, with Slicer's reading
of the answers. On every CI target the suite's Slicer checks run with the shipped target file, then the library
performs the same user actions on a study of the same kind. Same rule as test_dicomweb_client_agrees: PASS agrees
with an action that completes with the data Slicer shows; FAIL or KNOWN-DEVIATION with one that raises or shows
less; a NOT-APPLICABLE check judges nothing and must sit exactly where the target leaves the capability out."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite

from dicomweb_conformance.checks.clients_slicer import SLICER_STUDY_FILES, SlicerStudy, build_slicer_study
from tests.integration.client_targets import TARGETS, Served, assert_verdicts_agree, not_claimed, run_profile

MODULE = "suites/clients/test_client_slicer.py::"
Action = Callable[[DICOMwebClient, SlicerStudy], bool]


def _get_all_pages(f: Callable[..., list[dict[str, Any]]], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """DICOMwebBrowser.py _get_all_pages (18), as written there."""
    data: list[dict[str, Any]] = []
    offset = 0
    while True:
        kwargs["offset"] = offset
        subset = f(*args, **kwargs)
        if len(subset) == 0:
            break
        if subset[0] in data:
            break
        data.extend(subset)
        offset += len(subset)
    return data


def _cell(item: dict[str, Any], tag: str) -> str:
    """setTableCellTextFromDICOM (913) for a search result."""
    try:
        if item[tag]["vr"] == "PN":
            return ", ".join([value["Alphabetic"] for value in item[tag]["Value"]])
        return ", ".join(list(item[tag]["Value"]))
    except Exception:  # Slicer's bare except: an empty cell
        return ""


def _study_rows(client: DICOMwebClient, study: SlicerStudy) -> list[dict[str, Any]]:
    studies = _get_all_pages(client.search_for_studies, fields=["StudyDescription"])
    return [item for item in studies if _cell(item, "0020000D") == study.study_uid]


def _study_columns(client: DICOMwebClient, study: SlicerStudy) -> bool:
    [row] = _study_rows(client, study)
    shown = {tag: _cell(row, tag) for tag in study.study_cells()}
    shown["00080061"] = ", ".join(sorted(shown["00080061"].split(", ")))
    return shown == study.study_cells()


def _series_paged(client: DICOMwebClient, study: SlicerStudy) -> bool:
    series = _get_all_pages(client.search_for_series, study.study_uid, fields=["SeriesNumber"])
    return sorted(_cell(s, "0020000E") for s in series) == sorted(i.series_uid for i in study.instances.values())


def _instances_paged(client: DICOMwebClient, study: SlicerStudy) -> bool:
    instance = study[SLICER_STUDY_FILES[0]]
    found = _get_all_pages(
        client.search_for_instances, study_instance_uid=study.study_uid, series_instance_uid=instance.series_uid
    )
    return [_cell(i, "00080018") for i in found] == [instance.sop_instance_uid]


def _series_rows(client: DICOMwebClient, study: SlicerStudy) -> bool:
    """populateSeriesTableWidget (961): Dataset.from_json, then str(value) per column."""
    series = _get_all_pages(client.search_for_series, study.study_uid, fields=["SeriesNumber"])
    columns = ("SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "NumberOfSeriesRelatedInstances")
    rows = [{k: str(ds[k].value) for k in columns if k in ds} for ds in map(Dataset.from_json, series)]
    wanted = [study.series_cells(name) for name in SLICER_STUDY_FILES]
    return sorted(rows, key=str) == sorted(wanted, key=str)


def _saved(instances: Any, tmp: Path) -> list[str]:
    saved = []
    for number, ds in enumerate(instances):
        dcmwrite(str(tmp / f"{number}.dcm"), ds)  # pydicom 2 write_file, which Slicer calls; gone in pydicom 3
        saved.append(str(ds.SOPInstanceUID))
    return saved


def _download(name: str, tmp: Path) -> Action:
    """downloadSelectedSeries (796) of a series not yet in Slicer's database."""

    def action(client: DICOMwebClient, study: SlicerStudy) -> bool:
        instance = study[name]
        _get_all_pages(
            client.search_for_instances, study_instance_uid=study.study_uid, series_instance_uid=instance.series_uid
        )
        retrieved = client.iter_series(study_instance_uid=study.study_uid, series_instance_uid=instance.series_uid)
        return _saved(retrieved, tmp) == [instance.sop_instance_uid]

    return action


def _import(name: str, tmp: Path) -> Action:
    """DICOMUtils.importFromDICOMWeb(study) (936), for the series of `name`."""

    def action(client: DICOMwebClient, study: SlicerStudy) -> bool:
        instance = study[name]
        series_uids = [s["0020000E"]["Value"][0] for s in client.search_for_series(study_instance_uid=study.study_uid)]
        if instance.series_uid not in series_uids:
            return False
        info = client.retrieve_series_metadata(
            study_instance_uid=study.study_uid, series_instance_uid=instance.series_uid
        )
        if [i["00080018"]["Value"][0] for i in info] != [instance.sop_instance_uid]:
            return False
        retrieved = client.iter_series(study_instance_uid=study.study_uid, series_instance_uid=instance.series_uid)
        return _saved(retrieved, tmp) == [instance.sop_instance_uid]

    return action


def _actions(tmp: Path) -> dict[str, Action]:
    actions: dict[str, Action] = {
        "test_slicer_study_list": lambda c, s: len(_study_rows(c, s)) == 1,
        "test_slicer_study_columns": _study_columns,
        "test_slicer_paging[series]": _series_paged,
        "test_slicer_paging[instances]": _instances_paged,
        "test_slicer_series_list": _series_rows,
    }
    for name in SLICER_STUDY_FILES:
        actions[f"test_slicer_download_series[{name}]"] = _download(name, tmp)
        actions[f"test_slicer_import_series[{name}]"] = _import(name, tmp)
    return actions


def _attempt(action: Action, library: DICOMwebClient, study: SlicerStudy) -> tuple[bool, str]:
    try:
        ok = action(library, study)
    except Exception as error:  # whatever the library (or Slicer's reading) raises is what the Slicer user gets
        return False, f"{type(error).__name__}: {str(error).split(' for url')[0][:80]}"
    return ok, "OK" if ok else "completes, shows less"


@pytest.mark.parametrize("name", list(TARGETS))
def test_cl_slicer_verdicts_agree_with_the_library(tmp_path: Path, name: str) -> None:
    with TARGETS[name]() as served:
        run = run_profile(tmp_path / "run", served, "test_client_slicer")
        results = _library_results(served, tmp_path)
        unclaimed = not_claimed(served, run.conformance["checks"], MODULE)
    assert_verdicts_agree(name, run, MODULE, results, unclaimed, {check: check for check in results})


def _library_results(served: Served, tmp: Path) -> dict[str, tuple[bool, str]]:
    library = DICOMwebClient(url=served.url, headers=served.headers)
    study = build_slicer_study("slicer-agree")
    library.store_instances([dcmread(BytesIO(i.data)) for i in study.instances.values()])
    downloads = tmp / "downloads"
    downloads.mkdir()
    return {check: _attempt(action, library, study) for check, action in _actions(downloads).items()}
