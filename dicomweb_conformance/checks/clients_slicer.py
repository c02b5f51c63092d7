"""What the 3D Slicer DICOMweb browser sends, in the order its user actions send it, and what it does with the answer.

The browser (lassoan/SlicerDICOMwebBrowser @01ee03dd, DICOMwebBrowser/DICOMwebBrowser.py) and Slicer's own import
(Slicer/Slicer @583e9b37, Modules/Scripted/DICOMLib/DICOMUtils.py importFromDICOMWeb) call the Python
dicomweb-client: the requests are that library's (checks/clients.py), with the arguments Slicer passes; the answer is
read as Slicer reads it. An HTTPError anywhere in an action ends it in an error dialog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite

from dicomweb_conformance.checks.clients import ACCEPT_JSON, json_datasets
from dicomweb_conformance.checks.common import ConformanceFailure, fail, status_line
from dicomweb_conformance.corpora.compressed import built_in_file
from dicomweb_conformance.corpora.sample_files import parse
from dicomweb_conformance.dicom.samples import SampleInstance, instance_from_dataset, remap_uids, stamp_run
from dicomweb_conformance.dicom.uids import UidRemapper, new_uid
from dicomweb_conformance.transport.client import DicomwebClient

SLICER = "SlicerDICOMwebBrowser @01ee03dd"
BROWSER = "lassoan/SlicerDICOMwebBrowser @01ee03ddf05c DICOMwebBrowser/DICOMwebBrowser.py"
IMPORT = "Slicer/Slicer @583e9b37d50e Modules/Scripted/DICOMLib/DICOMUtils.py importFromDICOMWeb (936)"
# A native single frame, a native multi-frame, a JPEG 2000 lossless image: one series each, one study.
SLICER_STUDY_FILES = ("sc8_explicit", "enhmr120_explicit", "ct16s_j2k_lossless")
SLICER_PATIENT = "Slicer^Browser"
SLICER_STUDY_DATE = "20240105"
SLICER_STUDY_DESCRIPTION = "dicomweb-conformance: Slicer browser"
# _get_all_pages has no bound; a server that never gives an empty or a repeated page keeps Slicer waiting for ever.
# Generous: a large archive paged 100 at a time is still listed (a page of repeated items fails at once, below).
MAX_PAGES = 1000
# A list other clients change is walked until two walks in a row agree, this many times after the first.
STABLE_WALK_TRIES = 3
# populateStudiesTableWidget (933): the study list's columns, by tag.
STUDY_COLUMNS = {
    "0020000D": "Study instance UID",
    "00100010": "Patient name",
    "00100020": "Patient ID",
    "00080061": "Modalities",
    "00080020": "Study date",
    "00081030": "Study description",
}
# populateSeriesTableWidget (961): the series list's columns, by keyword.
SERIES_COLUMNS = (
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "NumberOfSeriesRelatedInstances",
)


@dataclass(frozen=True)
class SlicerStudy:
    """The run's study for the Slicer checks: study-level attributes the same in every instance."""

    study_uid: str
    patient_id: str
    instances: dict[str, SampleInstance]

    def __getitem__(self, name: str) -> SampleInstance:
        return self.instances[name]

    @property
    def modalities(self) -> list[str]:
        return sorted({str(dcmread(BytesIO(i.data)).Modality) for i in self.instances.values()})

    def study_cells(self) -> dict[str, str]:
        """What the study list shows for this study when every column is there (modalities sorted)."""
        return {
            "0020000D": self.study_uid,
            "00100010": SLICER_PATIENT,
            "00100020": self.patient_id,
            "00080061": ", ".join(self.modalities),
            "00080020": SLICER_STUDY_DATE,
            "00081030": SLICER_STUDY_DESCRIPTION,
        }

    def series_cells(self, name: str) -> dict[str, str]:
        ds = dcmread(BytesIO(self[name].data), stop_before_pixels=True)
        shown = {keyword: str(ds[keyword].value) for keyword in SERIES_COLUMNS if keyword in ds}
        return {**shown, "NumberOfSeriesRelatedInstances": "1"}


def build_slicer_study(run_id: str) -> SlicerStudy:
    study_uid = new_uid()
    instances: dict[str, SampleInstance] = {}
    patient_id = ""
    for name in SLICER_STUDY_FILES:
        ds = parse(built_in_file(f"{name}.dcm").data)
        remap_uids(ds, UidRemapper())
        ds.StudyInstanceUID = study_uid
        ds.PatientName = SLICER_PATIENT
        ds.StudyDate = SLICER_STUDY_DATE
        ds.StudyDescription = SLICER_STUDY_DESCRIPTION
        stamp_run(ds, run_id)
        patient_id = str(ds.PatientID)
        instances[name] = instance_from_dataset(name, ds, reuse=True)
    return SlicerStudy(study_uid, patient_id, instances)


# --- what Slicer does with an answer -------------------------------------------------------------------------------


@dataclass
class Pages:
    """What _get_all_pages collected, every answer it read, and which answer each item came in."""

    items: list[dict[str, Any]]
    answers: list[requests.Response]
    origins: list[int]

    @property
    def count(self) -> int:
        return len(self.answers)

    @property
    def last(self) -> requests.Response:
        return self.answers[-1]

    def answer_holding(self, item: dict[str, Any]) -> requests.Response:
        return self.answers[self.origins[self.items.index(item)]]


def all_pages(client: DicomwebClient, path: str, fields: Sequence[str], what: str) -> Pages:
    """`_get_all_pages` (18): offset=0 with no limit (the library sorts the query: includefield, then offset);
    it stops on an empty page or on a page whose first item it already holds, and offset += len(page). A page
    repeating items already listed fails at once: Slicer would list them twice and, its first item new, pages on."""
    walk = _walk(client, path, fields, what)
    if walk.failure is not None:
        raise walk.failure
    return walk.pages


def all_pages_of_a_shared_list(client: DicomwebClient, path: str, fields: Sequence[str], what: str) -> Pages:
    """all_pages of a list other clients change too (every study on the server): judged on a walk the next walk
    saw page for page, since a study stored or deleted while the list is paged shifts its pages (offset paging
    promises nothing across changes) and would pass for the server's own repeat or early end. When the list changes
    under every walk, the last one is judged as Slicer would have shown it, a failure saying the list kept changing:
    a server whose order is not stable breaks Slicer's paging as surely, so this is never left without a verdict."""
    walk = _walk(client, path, fields, what)
    if len(walk.seen) >= MAX_PAGES and walk.failure is not None:
        raise walk.failure  # no change by other clients makes a thousand pages of new items
    stable = False
    for _ in range(STABLE_WALK_TRIES):
        again = _walk(client, path, fields, what)
        stable, walk = again.seen == walk.seen, again
        if stable:
            break
    if walk.failure is not None:
        if not stable:
            walk.failure.summary += (
                f" (the list also changed between each of {STABLE_WALK_TRIES + 1} walks: another client storing or "
                "deleting, or an order that is not stable)"
            )
        raise walk.failure
    return walk.pages


@dataclass
class _Walk:
    pages: Pages
    seen: list[tuple[int, list[dict[str, Any]]]]  # each page's offset and items, to compare two walks
    failure: ConformanceFailure | None


def _walk(client: DicomwebClient, path: str, fields: Sequence[str], what: str) -> _Walk:
    pages = Pages([], [], [])
    seen: list[tuple[int, list[dict[str, Any]]]] = []
    offset = 0
    for _ in range(MAX_PAGES):
        params = [*(("includefield", field) for field in fields), ("offset", offset)]
        response = client.get(path, accept=ACCEPT_JSON, params=params)
        pages.answers.append(response)
        page = json_datasets(response, f"{what} at offset {offset}")
        seen.append((offset, page))
        if not page or page[0] in pages.items:
            return _Walk(pages, seen, None)
        repeated = [item for item in page if item in pages.items]
        if repeated:
            failure = fail(
                f"{what} at offset {offset}: a page repeats listed items; {SLICER} lists them twice and, its first "
                "item being new, pages on",
                expected="pages that start where the last one ended",
                actual=f"{len(repeated)} of {len(page)} items already listed",
                response=response,
            )
            return _Walk(pages, seen, failure)
        pages.items += page
        pages.origins += [len(pages.answers) - 1] * len(page)
        offset += len(page)
    failure = fail(
        f"{what}: {SLICER} pages on for ever (_get_all_pages stops only on an empty page or a repeated first item)",
        expected="an empty page, or the first item of a page seen before",
        actual=f"{MAX_PAGES} pages of new items, {len(pages.items)} items, the last: {status_line(response)}",
        response=response,
    )
    return _Walk(pages, seen, failure)


def cell_text(item: dict[str, Any], tag: str) -> str:
    """`setTableCellTextFromDICOM` (913) on a search result: PN values by their 'Alphabetic' component, anything else
    ', '.join(Value); a missing tag, a PN without 'Alphabetic' or a value that is not a string shows an empty cell."""
    try:
        element = item[tag]
        if element["vr"] == "PN":
            return ", ".join([value["Alphabetic"] for value in element["Value"]])
        return ", ".join(list(element["Value"]))
    except (KeyError, TypeError, IndexError):
        return ""


def series_row(item: dict[str, Any], what: str, response: requests.Response) -> dict[str, str]:
    """`populateSeriesTableWidget` (961): each answer item goes through `pydicom.Dataset.from_json` (an error ends the
    action); the columns are str(element.value); an item without SeriesInstanceUID gets no row to download."""
    try:
        ds = Dataset.from_json(item)
    except Exception as error:  # pydicom's own error, raised inside studySelected's try: the error dialog
        raise fail(
            f"{what}: Dataset.from_json fails on a series; {SLICER} shows an error, no series",
            expected="DICOM JSON pydicom reads",
            actual=f"{type(error).__name__}: {error}",
            response=response,
        ) from None
    return {keyword: str(ds[keyword].value) for keyword in SERIES_COLUMNS if keyword in ds}


def saved_instances(datasets: Sequence[Dataset], what: str, response: requests.Response) -> list[str]:
    """`downloadSelectedSeries` (796): each retrieved dataset's SOPInstanceUID names its file, then
    `pydicom.filewriter.write_file`; Slicer then indexes the folder."""
    saved: list[str] = []
    for ds in datasets:
        try:
            sop_uid = str(ds.SOPInstanceUID)
            dcmwrite(BytesIO(), ds)
        except Exception as error:  # pydicom's own error: the download's error dialog
            raise fail(
                f"{what}: {SLICER} cannot save a retrieved instance",
                expected="datasets pydicom writes, each with a SOPInstanceUID",
                actual=f"{type(error).__name__}: {error}",
                response=response,
            ) from None
        saved.append(sop_uid)
    return sorted(saved)
