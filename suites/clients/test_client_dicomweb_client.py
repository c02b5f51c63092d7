"""The Python dicomweb-client 0.61.2: its default requests, sent byte for byte as it sends them, judged by what the
library needs to work (dicomweb_conformance/checks/clients.py does with each answer what the library does).

The study read here (fixtures/client_fixtures.py) holds a native image, a native multi-frame and a JPEG 2000 lossless
image, each in its own series: a server that cannot hand a JPEG 2000 instance out in the default syntax breaks the
client's study download even though every instance is stored.
"""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.clients import (
    ACCEPT_DICOM_ANY,
    ACCEPT_DICOM_DEFAULT,
    ACCEPT_FRAMES_ANY,
    ACCEPT_FRAMES_DEFAULT,
    ACCEPT_JSON,
    CLIENT,
    CLIENT_STUDY_FILES,
    ClientStudy,
    build_client_study,
    check_sop_instances,
    dicom_datasets,
    json_datasets,
    multipart_contents,
    raise_for_status,
    stow_like_the_client,
    stow_response_dataset,
    uids_of,
)
from dicomweb_conformance.checks.common import fail, status_line
from dicomweb_conformance.plugin.state import RunState
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb, instance_path, series_path

STUDY_UID, SERIES_UID, SOP_UID = "0020000D", "0020000E", "00080018"
# search_for_series(get_remaining=True) stops only on an empty page: a server ignoring offset never ends.
PAGE_LIMIT = 1


@pytest.mark.req("CL-DWC-QIDO-ACCEPT")
def test_dwc_search_accept_list(client: DicomwebClient, client_study: ClientStudy) -> None:
    """search_for_studies(search_filters={'StudyInstanceUID': ...}) gets a JSON array holding the study."""
    params = {"StudyInstanceUID": client_study.study_uid}
    response = client.get("studies", accept=ACCEPT_JSON, params=params)
    found = uids_of(json_datasets(response, "search_for_studies by StudyInstanceUID"), STUDY_UID)
    if found != [client_study.study_uid]:
        raise fail(
            "search_for_studies by StudyInstanceUID: not the study",
            expected=[client_study.study_uid],
            actual=found,
            response=response,
        )


@pytest.mark.req("CL-DWC-QIDO-EMPTY")
def test_dwc_search_without_match(client: DicomwebClient, run_state: RunState) -> None:
    """A search matching nothing gives the client [] (204, an empty body or an empty JSON array)."""
    params = {"PatientID": f"NOSUCH-{run_state.run_id}"}
    response = client.get("studies", accept=ACCEPT_JSON, params=params)
    found = json_datasets(response, "search_for_studies matching nothing")
    if found:
        raise fail(
            "search_for_studies matching nothing: the client gets datasets",
            expected="[]",
            actual=f"{len(found)} dataset(s)",
            response=response,
        )


@pytest.mark.req("CL-DWC-QIDO-PAGING")
def test_dwc_search_paging_ends(client: DicomwebClient, client_study: ClientStudy) -> None:
    """search_for_series(study, limit=1, get_remaining=True): pages end with an empty one, each series once."""
    wanted = sorted(i.series_uid for i in client_study.instances.values())
    path = f"studies/{client_study.study_uid}/series"
    found: list[str] = []
    offset = 0
    for _ in range(len(wanted) + 2):  # the client would go on for ever; one request past the end is its own
        response = client.get(path, accept=ACCEPT_JSON, params=[("limit", PAGE_LIMIT), ("offset", offset)])
        page = json_datasets(response, f"search_for_series page at offset {offset}")
        if not page:
            break
        found += uids_of(page, SERIES_UID)
        offset += len(page)
    else:
        raise fail(
            f"search_for_series with limit={PAGE_LIMIT}: no empty page; {CLIENT} (get_remaining) never stops",
            expected=f"an empty page after {len(wanted)} series",
            actual=f"{len(found)} results over {len(wanted) + 2} pages, the last: {status_line(response)}",
            response=response,
        )
    if sorted(found) != wanted:
        raise fail(
            f"search_for_series with limit={PAGE_LIMIT}: the pages do not hold each series once",
            expected=wanted,
            actual=found,
            response=response,
        )


@pytest.mark.req("CL-DWC-META")
@pytest.mark.parametrize("level", ["study", "series", "instance"])
def test_dwc_metadata(client: DicomwebClient, client_study: ClientStudy, level: str) -> None:
    """retrieve_{study,series,instance}_metadata get a JSON array of the instances' datasets."""
    instance = client_study[CLIENT_STUDY_FILES[0]]
    path, expected = {
        "study": (f"studies/{client_study.study_uid}", client_study.sop_uids),
        "series": (series_path(instance), [instance.sop_instance_uid]),
        "instance": (instance_path(instance), [instance.sop_instance_uid]),
    }[level]
    response = client.get(path + "/metadata", accept=ACCEPT_JSON)
    found = sorted(uids_of(json_datasets(response, f"retrieve_{level}_metadata"), SOP_UID))
    if found != expected:
        # retrieve_instance_metadata takes [0]: an empty list raises IndexError.
        raise fail(f"retrieve_{level}_metadata: not the datasets", expected=expected, actual=found, response=response)


@pytest.mark.req("CL-DWC-RETRIEVE-DEFAULT")
@pytest.mark.parametrize("scope", ["study", *(f"series-{name}" for name in CLIENT_STUDY_FILES)])
def test_dwc_retrieve_default(client: DicomwebClient, client_study: ClientStudy, scope: str) -> None:
    """retrieve_study / retrieve_series with no media types get every instance as a Part 10 part."""
    if scope == "study":
        path, expected, what = f"studies/{client_study.study_uid}", list(client_study.instances.values()), "study"
    else:
        instance = client_study[scope.removeprefix("series-")]
        path, expected, what = series_path(instance), [instance], f"series of {instance.name}"
    response = client.get(path, accept=ACCEPT_DICOM_DEFAULT)
    what = f"retrieve of the {what} ({ACCEPT_DICOM_DEFAULT})"
    check_sop_instances(dicom_datasets(response, what), expected, what, response)


@pytest.mark.req("CL-DWC-RETRIEVE-INSTANCE")
@pytest.mark.parametrize("name", CLIENT_STUDY_FILES)
def test_dwc_retrieve_instance(client: DicomwebClient, client_study: ClientStudy, name: str) -> None:
    """retrieve_instance with its default transfer-syntax=* gets the one instance."""
    instance = client_study[name]
    response = client.get(instance_path(instance), accept=ACCEPT_DICOM_ANY)
    what = f"retrieve_instance of {name}"
    datasets = dicom_datasets(response, what)
    if len(datasets) != 1:  # retrieve_instance: "More than one instance returned by origin server"
        raise fail(f"{what}: {CLIENT} wants one part", expected=1, actual=len(datasets), response=response)
    check_sop_instances(datasets, [instance], what, response)


@pytest.mark.req("CL-DWC-MULTIPART")
@pytest.mark.parametrize("answer", ["instance", "series"])
def test_dwc_multipart_framing(client: DicomwebClient, client_study: ClientStudy, answer: str) -> None:
    """A multipart answer splits as the client splits it: a boundary parameter, CRLFCRLF in every part, one part
    per instance (retrieve_instance of the multi-frame; retrieve_series of the native single frame)."""
    if answer == "instance":
        instance = client_study["enhmr120_explicit"]
        path, accept = instance_path(instance), ACCEPT_DICOM_ANY
    else:
        instance = client_study["sc8_explicit"]
        path, accept = series_path(instance), ACCEPT_DICOM_DEFAULT
    response = client.get(path, accept=accept)
    what = f"{answer} of {instance.name} ({accept})"
    raise_for_status(response, what)
    if "boundary=" not in response.headers.get("Content-Type", "").lower():
        raise fail(
            f"{what}: no boundary parameter; {CLIENT} takes the whole body as one part",
            expected="Content-Type: multipart/related; ...; boundary=...",
            actual=response.headers.get("Content-Type"),
            response=response,
        )
    parts = multipart_contents(response, what)
    if len(parts) != 1 or not parts[0]:
        raise fail(
            f"{what}: the client splits it into other parts",
            expected="1 non-empty part",
            actual=[len(part) for part in parts],
            response=response,
        )


def _frame_parts(client: DicomwebClient, client_study: ClientStudy, case: str, accept: str) -> None:
    """`case`: a file name, or name-n,m for those frames (the client joins frame_numbers with commas)."""
    name, _, numbers = case.partition("-")
    frames = numbers or "1"
    instance = client_study[name]
    response = client.get(f"{instance_path(instance)}/frames/{frames}", accept=accept)
    what = f"retrieve_instance_frames([{frames}]) of {name} ({accept})"
    parts = multipart_contents(response, what)
    count = len(frames.split(","))
    if len(parts) != count or not all(parts):
        raise fail(
            f"{what}: not one part per frame",
            expected=f"{count} non-empty part(s)",
            actual=[len(part) for part in parts],
            response=response,
        )


@pytest.mark.req("CL-DWC-FRAMES-DEFAULT")
@pytest.mark.parametrize("name", CLIENT_STUDY_FILES)
def test_dwc_frames_default(client: DicomwebClient, client_study: ClientStudy, name: str) -> None:
    """retrieve_instance_frames([1]) with no media types (type="*/*") gets the frame."""
    _frame_parts(client, client_study, name, ACCEPT_FRAMES_DEFAULT)


@pytest.mark.req("CL-DWC-FRAMES-TS")
@pytest.mark.parametrize("case", [*CLIENT_STUDY_FILES, "enhmr120_explicit-1,2"])
def test_dwc_frames_any_syntax(client: DicomwebClient, client_study: ClientStudy, case: str) -> None:
    """retrieve_instance_frames([1]) (and [1, 2] of the multi-frame) with media_types=(('application/octet-stream',
    '*'),) gets one part per frame."""
    _frame_parts(client, client_study, case, ACCEPT_FRAMES_ANY)


@pytest.mark.req("CL-DWC-RENDERED")
@pytest.mark.parametrize("name", CLIENT_STUDY_FILES)
def test_dwc_rendered_without_accept(client: DicomwebClient, client_study: ClientStudy, name: str) -> None:
    """retrieve_instance_rendered with no media types (no Accept of its own) gets a body."""
    response = client.get_without_accept(instance_path(client_study[name]) + "/rendered")
    what = f"retrieve_instance_rendered of {name} (no Accept)"
    raise_for_status(response, what)
    if not response.content:
        raise fail(
            f"{what}: an empty body", expected="the rendered image", actual=status_line(response), response=response
        )


# Above the client's 1 MB chunk size: sent with Transfer-Encoding: chunked, as the client sends a large body.
STOW_FILES = ("sc8_explicit", *(["enhmr120_explicit"] * 4))


@pytest.mark.req("CL-DWC-STOW")
def test_dwc_store_instances(dicomweb: Dicomweb, run_state: RunState) -> None:
    """store_instances of a study over 1 MB (chunked): 2xx, then every instance found by a search."""
    instances = list(build_client_study(run_state.run_id, STOW_FILES).instances.values())
    response = stow_like_the_client(dicomweb, instances)
    raise_for_status(response, f"store_instances of {len(instances)} instances (chunked)")
    missing = dicomweb.wait_visible(instances)
    if missing:
        raise fail(
            "store_instances answered success, but not every instance is found by a search",
            expected=[i.sop_instance_uid for i in instances],
            actual=f"missing: {[i.sop_instance_uid for i in missing]}",
            response=response,
        )


@pytest.mark.req("CL-DWC-STOW-RESPONSE")
def test_dwc_store_response(dicomweb: Dicomweb, run_state: RunState) -> None:
    """store_instances returns the answer as a Dataset whose ReferencedSOPSequence lists the instance."""
    [instance] = build_client_study(run_state.run_id, ["sc8_explicit"]).instances.values()
    response = stow_like_the_client(dicomweb, [instance])
    dataset = stow_response_dataset(response, "store_instances of one instance")
    referenced = [str(item.get("ReferencedSOPInstanceUID", "")) for item in dataset.get("ReferencedSOPSequence", [])]
    if referenced != [instance.sop_instance_uid]:
        raise fail(
            "store_instances: the returned Dataset does not list the instance",
            expected=[instance.sop_instance_uid],
            actual=referenced,
            response=response,
        )
