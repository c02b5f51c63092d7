"""The 3D Slicer DICOMweb browser (lassoan/SlicerDICOMwebBrowser @01ee03dd) and Slicer's own DICOMweb import: the
requests its user actions make, in their order, through the Python dicomweb-client as Slicer calls it, judged by what
Slicer does with each answer (dicomweb_conformance/checks/clients_slicer.py).

The study read here (fixtures/client_slicer_fixtures.py) holds a native image, a native multi-frame and a JPEG 2000
lossless image, one series each, with the same study date and description in every instance.
"""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.clients import ACCEPT_DICOM_DEFAULT, ACCEPT_JSON, dicom_datasets, json_datasets
from dicomweb_conformance.checks.clients_slicer import (
    SLICER,
    SLICER_STUDY_FILES,
    STUDY_COLUMNS,
    Pages,
    SlicerStudy,
    all_pages,
    all_pages_of_a_shared_list,
    cell_text,
    saved_instances,
    series_row,
)
from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import series_path

STUDY_UID, SERIES_UID, SOP_UID = "0020000D", "0020000E", "00080018"


def _study_list(client: DicomwebClient) -> Pages:
    """connectToServer (540): _get_all_pages(search_for_studies, fields=['StudyDescription'])."""
    with client.changes.still():  # under xdist, the run's other workers hold their stores and deletes meanwhile
        return all_pages_of_a_shared_list(client, "studies", ["StudyDescription"], "the study list")


def _series_list(client: DicomwebClient, study: SlicerStudy) -> Pages:
    """studySelected (623): _get_all_pages(search_for_series, study, fields=['SeriesNumber'])."""
    return all_pages(client, f"studies/{study.study_uid}/series", ["SeriesNumber"], "the series list")


def _rows_of_study(pages: Pages, study: SlicerStudy) -> list[dict[str, object]]:
    return [item for item in pages.items if cell_text(item, STUDY_UID) == study.study_uid]


@pytest.mark.req("CL-SLICER-STUDY-LIST")
def test_slicer_study_list(client: DicomwebClient, slicer_study: SlicerStudy) -> None:
    """Connecting lists every study: the pages end and the run's study is in the list once, its UID in its row."""
    pages = _study_list(client)
    rows = _rows_of_study(pages, slicer_study)
    if len(rows) != 1:
        raise fail(
            f"the study list: the run's study is not listed once; {SLICER} cannot open it",
            expected=f"one row with Study instance UID {slicer_study.study_uid}",
            actual=f"{len(rows)} such row(s) among {len(pages.items)} studies over {pages.count} request(s)",
            response=pages.last,
        )


@pytest.mark.req("CL-SLICER-STUDY-COLUMNS")
def test_slicer_study_columns(client: DicomwebClient, slicer_study: SlicerStudy) -> None:
    """The study's row shows what is stored: UID, patient name (PN Alphabetic), patient ID, modalities, study date,
    study description."""
    pages = _study_list(client)
    rows = _rows_of_study(pages, slicer_study)
    if not rows:
        raise fail(
            "the study list: no row for the run's study", expected=slicer_study.study_uid, actual=0, response=pages.last
        )
    shown = {tag: cell_text(rows[0], tag) for tag in STUDY_COLUMNS}
    shown["00080061"] = ", ".join(sorted(shown["00080061"].split(", ")))
    wrong = {
        STUDY_COLUMNS[tag]: (wanted, shown[tag])
        for tag, wanted in slicer_study.study_cells().items()
        if shown[tag] != wanted
    }
    if wrong:
        raise fail(
            f"the study list: {SLICER} shows empty or wrong columns for the run's study",
            expected={column: wanted for column, (wanted, _) in wrong.items()},
            actual={column: got for column, (_, got) in wrong.items()},
            response=pages.answer_holding(rows[0]),
        )


@pytest.mark.req("CL-SLICER-PAGING")
@pytest.mark.parametrize("listing", ["series", "instances"])
def test_slicer_paging(client: DicomwebClient, slicer_study: SlicerStudy, listing: str) -> None:
    """_get_all_pages (offset 0, then += the page's length, no limit) ends and holds every series of the study (every
    instance of a series) once."""
    if listing == "series":
        pages = _series_list(client, slicer_study)
        found, wanted = (
            [cell_text(i, SERIES_UID) for i in pages.items],
            [i.series_uid for i in slicer_study.instances.values()],
        )
    else:
        instance = slicer_study[SLICER_STUDY_FILES[0]]
        pages = all_pages(client, series_path(instance) + "/instances", [], "the series' instance search")
        found, wanted = [cell_text(i, SOP_UID) for i in pages.items], [instance.sop_instance_uid]
    if sorted(found) != sorted(wanted):
        raise fail(
            f"{listing} paged as {SLICER} pages it: not each one once",
            expected=sorted(wanted),
            actual=f"{found} over {pages.count} request(s)",
            response=pages.last,
        )


@pytest.mark.req("CL-SLICER-SERIES")
def test_slicer_series_list(client: DicomwebClient, slicer_study: SlicerStudy) -> None:
    """Opening the study lists its series: each item read by Dataset.from_json shows its UID, modality, series number,
    description and image count."""
    pages = _series_list(client, slicer_study)
    rows = {
        row.get("SeriesInstanceUID"): row
        for row in (series_row(i, "the series list", pages.answer_holding(i)) for i in pages.items)
    }
    wrong = {}
    for name in SLICER_STUDY_FILES:
        wanted = slicer_study.series_cells(name)
        shown = rows.get(wanted["SeriesInstanceUID"], {})
        if shown != wanted:
            wrong[name] = {"expected": wanted, "shown": shown}
    if wrong:
        raise fail(
            f"the series list: {SLICER} shows missing or wrong series",
            expected="a row per series with every column as stored",
            actual=wrong,
            response=pages.answers[0],
        )


def _iter_series_saves_the_instance(client: DicomwebClient, instance: SampleInstance, name: str) -> None:
    """iter_series (the default Accept, no transfer syntax: Explicit VR Little Endian): the series' one instance
    comes back and is saved."""
    response = client.get(series_path(instance), accept=ACCEPT_DICOM_DEFAULT)
    what = f"iter_series of the series of {name} ({ACCEPT_DICOM_DEFAULT})"
    saved = saved_instances(dicom_datasets(response, what), what, response)
    if saved != [instance.sop_instance_uid]:
        raise fail(
            f"{what}: not the series' instances", expected=[instance.sop_instance_uid], actual=saved, response=response
        )


@pytest.mark.req("CL-SLICER-DOWNLOAD")
@pytest.mark.parametrize("name", SLICER_STUDY_FILES)
def test_slicer_download_series(client: DicomwebClient, slicer_study: SlicerStudy, name: str) -> None:
    """Downloading a series: the paged instance search, then iter_series (the default Accept, no transfer syntax:
    Explicit VR Little Endian); every instance comes back and is saved."""
    instance = slicer_study[name]
    all_pages(client, series_path(instance) + "/instances", [], f"the instance search of the series of {name}")
    _iter_series_saves_the_instance(client, instance, name)


@pytest.mark.req("CL-SLICER-IMPORT")
@pytest.mark.parametrize("name", SLICER_STUDY_FILES)
def test_slicer_import_series(client: DicomwebClient, slicer_study: SlicerStudy, name: str) -> None:
    """DICOMUtils.importFromDICOMWeb(study): a series search read for 0020000E, the series' metadata read for
    00080018, then iter_series; every instance comes back and is saved."""
    instance = slicer_study[name]
    response = client.get(f"studies/{slicer_study.study_uid}/series", accept=ACCEPT_JSON)
    listed = [cell_text(item, SERIES_UID) for item in json_datasets(response, "search_for_series(study)")]
    if instance.series_uid not in listed or "" in listed:
        raise fail(
            "search_for_series(study): Slicer reads series['0020000E']['Value'][0] of every item",
            expected=f"every item with its Series Instance UID, {instance.series_uid} among them",
            actual=listed,
            response=response,
        )
    response = client.get(series_path(instance) + "/metadata", accept=ACCEPT_JSON)
    sop_uids = [cell_text(item, SOP_UID) for item in json_datasets(response, f"retrieve_series_metadata of {name}")]
    if sop_uids != [instance.sop_instance_uid]:
        raise fail(
            f"retrieve_series_metadata of {name}: Slicer reads instanceInfo['00080018']['Value'][0] of every item",
            expected=[instance.sop_instance_uid],
            actual=sop_uids,
            response=response,
        )
    _iter_series_saves_the_instance(client, instance, name)
