"""OHIF Viewer v3: the requests its DICOMweb data source makes for a user's actions (study list, next page, open a
study, scroll its images, save an SR), sent exactly as OHIF and the JS dicomweb-client 0.10.4 build them, and judged
by what OHIF does with the answer (dicomweb_conformance/checks/clients_ohif.py).

The study (dicomweb_conformance/checks/clients_ohif_study.py) holds a native single frame, a native 120-frame enhanced
MR and a JPEG 2000 CT, one series each, under one patient whose name carries this run's token.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from dicomweb_conformance.checks.clients_ohif import (
    ACCEPT_FRAMES,
    ACCEPT_JSON,
    CLIENT,
    STOW_TYPE,
    check_frame,
    frame_of,
    get_string,
    has_value,
    json_datasets,
    require,
    resolve,
    series_list_query,
    study_list_query,
    values,
)
from dicomweb_conformance.checks.clients_ohif_study import (
    OHIF_DESCRIPTION,
    OHIF_STUDY_FILES,
    OhifStudy,
    measurement_sr,
)
from dicomweb_conformance.checks.common import fail, status_line
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.plugin.state import RunState
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb, instance_path

STUDY_UID, SERIES_UID, SOP_UID = "0020000D", "0020000E", "00080018"
# What the viewer lays an image out with (cornerstone's metadata providers read these from the instance).
IMAGE_TAGS = {"00280010": "Rows", "00280011": "Columns", "00280100": "BitsAllocated", "00280004": "Photometric"}
PLANE_TAGS = {"00200032": "ImagePositionPatient", "00200037": "ImageOrientationPatient"}


def _study_row(client: DicomwebClient, study: OhifStudy) -> tuple[dict[str, Any], requests.Response]:
    response = client.get(study_list_query(patient_id=study.patient_id), accept=ACCEPT_JSON)
    what = f"the study list searched by PatientID ({CLIENT} mapParams)"
    found = [d for d in json_datasets(response, what) if get_string(d, STUDY_UID) == study.study_uid]
    require(
        len(found) == 1,
        f"{what}: the study is not in the list",
        expected=study.study_uid,
        actual=status_line(response),
        response=response,
    )
    return found[0], response


@pytest.mark.req("CL-OHIF-STUDY-INCLUDEFIELD")
def test_ohif_study_list_includefield(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """The study list's comma-list includefield (sent as %2C) brings the StudyDescription the list shows."""
    row, response = _study_row(client, ohif_study)
    require(
        get_string(row, "00081030") == OHIF_DESCRIPTION,
        "the study list: no StudyDescription (00081030)",
        expected=OHIF_DESCRIPTION,
        actual=row.get("00081030"),
        response=response,
    )


@pytest.mark.req("CL-OHIF-STUDY-ATTRS")
def test_ohif_study_list_row(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """The study list's row holds the date, the patient's name as PN, the instance count and every modality."""
    row, response = _study_row(client, ohif_study)
    date, names = get_string(row, "00080020"), values(row, "00100010")
    alphabetic = names[0].get("Alphabetic") if names and isinstance(names[0], dict) else None
    count = get_string(row, "00201208")
    modalities = set(get_string(row, "00080061").split("\\"))
    wanted = {i.dataset.Modality for i in ohif_study.instances}
    shown = {"StudyDate": date, "PatientName": names, "NumberOfStudyRelatedInstances": count, "Modalities": modalities}
    ok = (
        len(date) == 8
        and date.isdigit()
        and alphabetic == ohif_study.patient_name
        and count.isdigit()
        and int(count) == len(ohif_study.instances)
        and wanted <= modalities
    )
    require(
        ok,
        "the study list's row is wrong",
        response=response,
        expected=f"YYYYMMDD, {{'Alphabetic': {ohif_study.patient_name!r}}}, {len(ohif_study.instances)}, {wanted}",
        actual=shown,
    )


def _found_by(client: DicomwebClient, study: OhifStudy, query: str, what: str) -> None:
    response = client.get(query, accept=ACCEPT_JSON)
    found = [get_string(d, STUDY_UID) for d in json_datasets(response, what)]
    require(
        study.study_uid in found,
        f"{what}: the study is not found",
        expected=study.study_uid,
        actual=found[:5] or status_line(response),
        response=response,
    )


@pytest.mark.req("CL-OHIF-STUDY-WILDCARD")
def test_ohif_study_list_wildcard(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """PatientName=*part* (supportsWildcard) finds the study."""
    query = study_list_query(patient_name=f"*{ohif_study.patient_token}*")
    _found_by(client, ohif_study, query, "the study list by PatientName=*part*")


@pytest.mark.req("CL-OHIF-STUDY-MODALITIES")
@pytest.mark.parametrize("modalities", [("CT",), ("SR", "CT")], ids=["one", "list"])
def test_ohif_study_list_modalities(client: DicomwebClient, ohif_study: OhifStudy, modalities: tuple[str]) -> None:
    """ModalitiesInStudy=CT, and the list SR%2CCT, find the study (scoped by its PatientID)."""
    query = study_list_query(patient_id=ohif_study.patient_id, modalities=modalities)
    _found_by(client, ohif_study, query, f"the study list by ModalitiesInStudy={','.join(modalities)}")


@pytest.mark.req("CL-OHIF-STUDY-UIDLIST")
def test_ohif_study_uid_list(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """StudyInstanceUID=<the study>%5C<a UID nothing has> finds the study."""
    query = study_list_query(study_uids=[ohif_study.study_uid, new_uid()])
    _found_by(client, ohif_study, query, "the study search by a backslash list of UIDs")


@pytest.mark.req("CL-OHIF-STUDY-EMPTY")
def test_ohif_study_list_empty(client: DicomwebClient, run_state: RunState) -> None:
    """A study list search matching nothing is 200, 202 or 204 with no dataset."""
    response = client.get(study_list_query(patient_id=f"NOSUCH-{run_state.run_id}"), accept=ACCEPT_JSON)
    found = json_datasets(response, "the study list matching nothing")
    require(
        not found,
        "the study list matching nothing shows studies",
        expected="[]",
        actual=f"{len(found)} dataset(s)",
        response=response,
    )


@pytest.mark.req("CL-OHIF-PAGE-OFFSET")
def test_ohif_next_page(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """limit=101&offset=100 of a search holding one study is empty."""
    response = client.get(study_list_query(patient_id=ohif_study.patient_id, offset=100), accept=ACCEPT_JSON)
    found = json_datasets(response, "the study list's window at offset 100")
    require(
        not found,
        "the window at offset 100 repeats the first",
        expected="no study",
        actual=[get_string(d, STUDY_UID) for d in found],
        response=response,
    )


def _series_rows(client: DicomwebClient, study: OhifStudy) -> tuple[list[dict[str, Any]], requests.Response]:
    response = client.get(series_list_query(study.study_uid), accept=ACCEPT_JSON)
    rows = json_datasets(response, "the series search with includefield=0008103E%2C00080021")
    found = sorted(get_string(r, SERIES_UID) for r in rows)
    wanted = sorted(i.series_uid for i in study.instances)
    require(
        found == wanted, "the series search: not every series once", expected=wanted, actual=found, response=response
    )
    return rows, response


@pytest.mark.req("CL-OHIF-SERIES-INCLUDEFIELD")
def test_ohif_series_includefield(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """The series search's comma-list includefield (sent as %2C) brings every series' SeriesDate."""
    rows, response = _series_rows(client, ohif_study)
    wanted = {i.series_uid: str(i.dataset.SeriesDate) for i in ohif_study.instances}
    found = {get_string(r, SERIES_UID): get_string(r, "00080021") for r in rows}
    require(
        found == wanted, "the series search: no SeriesDate (00080021)", expected=wanted, actual=found, response=response
    )


@pytest.mark.req("CL-OHIF-SERIES-ATTRS")
def test_ohif_series_rows(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """Every series row holds its Modality, SeriesNumber, SeriesDescription and instance count."""
    rows, response = _series_rows(client, ohif_study)
    wanted = {
        i.series_uid: (i.dataset.Modality, str(i.dataset.SeriesNumber), str(i.dataset.SeriesDescription), "1")
        for i in ohif_study.instances
    }
    tags = ("00080060", "00200011", "0008103E", "00201209")
    found = {get_string(r, SERIES_UID): tuple(get_string(r, t) for t in tags) for r in rows}
    require(found == wanted, "the series rows are wrong", expected=wanted, actual=found, response=response)


def _check_instances(datasets: list[dict[str, Any]], study: OhifStudy, what: str, response: requests.Response) -> None:
    by_sop = {get_string(d, SOP_UID): d for d in datasets}
    wanted = sorted(i.sop_instance_uid for i in study.instances)
    require(
        sorted(by_sop) == wanted,
        f"{what}: not every instance once",
        expected=wanted,
        actual=sorted(by_sop),
        response=response,
    )
    for instance in study.instances:
        ds, stored = by_sop[instance.sop_instance_uid], instance.dataset
        missing = [name for tag, name in IMAGE_TAGS.items() if not values(ds, tag)]
        if stored.Modality in ("CT", "MR"):
            missing += [name for tag, name in PLANE_TAGS.items() if not has_value(ds, tag)]
        frames = int(stored.get("NumberOfFrames") or 1)
        if frames > 1 and get_string(ds, "00280008") != str(frames):
            missing.append(f"NumberOfFrames {frames} (got {get_string(ds, '00280008')!r})")
        require(
            not missing,
            f"{what}: {instance.name} lacks what the viewer lays it out with",
            expected="the attributes present",
            actual=missing,
            response=response,
        )


@pytest.mark.req("CL-OHIF-METADATA-LAZY")
def test_ohif_open_study_lazy(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """studies/{s}/series, then each series' metadata: every instance with its image attributes."""
    response = client.get(f"studies/{ohif_study.study_uid}/series", accept=ACCEPT_JSON)
    series = [get_string(r, SERIES_UID) for r in json_datasets(response, "open study: the series search")]
    datasets: list[dict[str, Any]] = []
    for series_uid in series:
        response = client.get(f"studies/{ohif_study.study_uid}/series/{series_uid}/metadata", accept=ACCEPT_JSON)
        datasets += json_datasets(response, f"open study: metadata of series {series_uid}")
    _check_instances(datasets, ohif_study, "open study, lazy (series metadata)", response)


@pytest.mark.req("CL-OHIF-METADATA-SYNC")
def test_ohif_open_study_sync(client: DicomwebClient, ohif_study: OhifStudy) -> None:
    """studies/{s}/metadata: every instance with its image attributes."""
    response = client.get(f"studies/{ohif_study.study_uid}/metadata", accept=ACCEPT_JSON)
    datasets = json_datasets(response, "open study: the study metadata")
    _check_instances(datasets, ohif_study, "open study, not lazy (study metadata)", response)


FRAME_CASES = [(name, 1) for name in OHIF_STUDY_FILES] + [("enhmr120_explicit", 120)]


@pytest.mark.req("CL-OHIF-FRAMES")
@pytest.mark.parametrize("quotes", list(ACCEPT_FRAMES))
@pytest.mark.parametrize(("name", "number"), FRAME_CASES, ids=[f"{n}-{f}" for n, f in FRAME_CASES])
def test_ohif_frames(client: DicomwebClient, ohif_study: OhifStudy, name: str, number: int, quotes: str) -> None:
    """frames/{n} with OHIF's Accept gives cornerstone a frame it splits and decodes."""
    instance = ohif_study.study[name]
    response = client.get(f"{instance_path(instance)}/frames/{number}", accept=ACCEPT_FRAMES[quotes])
    what = f"frame {number} of {name} ({ACCEPT_FRAMES[quotes]})"
    stored = instance.dataset
    size = stored.Rows * stored.Columns * stored.get("SamplesPerPixel", 1) * stored.BitsAllocated // 8
    check_frame(frame_of(response, what), instance.transfer_syntax_uid, size, what, response)


@pytest.mark.req("CL-OHIF-STOW-SR")
def test_ohif_save_sr(dicomweb: Dicomweb, run_state: RunState) -> None:
    """POST studies as storeInstances sends an SR: 200, 202 or 204, then the SR is found."""
    sr = measurement_sr(run_state.run_id)
    boundary = str(uuid.uuid4())
    body = f"\r\n--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + sr.data
    body += f"\r\n--{boundary}--".encode()
    dicomweb.record([sr])
    response = dicomweb.client.post("studies", body, content_type=STOW_TYPE.format(boundary=boundary), accept=None)
    resolve(response, "saving an SR (storeInstances)")
    if dicomweb.wait_visible([sr]):
        raise fail(
            "saving an SR: the store answered success, but the SR is not found by a search",
            expected=sr.sop_instance_uid,
            actual="not found",
            response=response,
        )
