"""What the Python dicomweb-client 0.61.2 sends by default, and what it needs of the answer to work.

Every constant is the request the library builds (src/dicomweb_client/web.py, line numbers of 0.61.2); every parser
here does what the library does with the answer, so a check judges the answer as the client would: a 4xx or 5xx
raises `requests.HTTPError` (`_http_get`, 526: `response.raise_for_status()`), a multipart body is split as
`_decode_multipart_message` (680) splits it, a DICOM part is read by `pydicom.dcmread` without `force`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomweb_conformance.checks.common import fail, status_line
from dicomweb_conformance.corpora.compressed import built_in_file
from dicomweb_conformance.corpora.sample_files import parse
from dicomweb_conformance.dicom.samples import SampleInstance, instance_from_dataset, remap_uids, stamp_run
from dicomweb_conformance.dicom.uids import UidRemapper, new_uid
from dicomweb_conformance.transport.store import Dicomweb

CLIENT = "dicomweb-client 0.61.2"
# _http_get_application_json (591): every search and metadata request.
ACCEPT_JSON = "application/dicom+json, application/json"
# _get_study / _get_series (2012, 2296) -> _http_get_multipart_application_dicom (1017) with media_types None.
ACCEPT_DICOM_DEFAULT = 'multipart/related; type="application/dicom"'
# retrieve_instance (2721): media_types defaults to (("application/dicom", "*"),).
ACCEPT_DICOM_ANY = 'multipart/related; type="application/dicom"; transfer-syntax=*'
# _get_instance_frames (3047) -> _http_get_multipart (1105) with media_types None: ("*/*",).
ACCEPT_FRAMES_DEFAULT = 'multipart/related; type="*/*"'
# retrieve_instance_frames(media_types=(("application/octet-stream", "*"),)): the documented way to get the frames
# as stored (_http_get_multipart_application_octet_stream, 1176).
ACCEPT_FRAMES_ANY = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
# _http_post_multipart_application_dicom (1610): a fixed, quoted boundary.
STOW_BOUNDARY = "0f3cf5c0-70e0-41ef-baef-c6f9f65ec3e1"
STOW_CONTENT_TYPE = f'multipart/related; type="application/dicom"; boundary="{STOW_BOUNDARY}"'
# DICOMwebClient's chunk_size default: a body above it is sent with Transfer-Encoding: chunked (_http_post, 1524).
STOW_CHUNK_SIZE = 10**6
# _http_post_multipart_application_dicom: the answer is parsed only under exactly these media types.
STOW_RESPONSE_TYPES = ("application/dicom+json", "application/json")

# The study the CL-DWC checks read: a native single frame, a native multi-frame, a JPEG 2000 lossless image.
CLIENT_STUDY_FILES = ("sc8_explicit", "enhmr120_explicit", "ct16s_j2k_lossless")
CLIENT_PATIENT = "Client^DicomwebClient"


def source(function: str, line: int) -> str:
    return f"{CLIENT} src/dicomweb_client/web.py {function} ({line})"


@dataclass(frozen=True)
class ClientStudy:
    """One study of this run's own: the instances by corpus name, all under one fresh Study Instance UID."""

    study_uid: str
    instances: dict[str, SampleInstance]

    def __getitem__(self, name: str) -> SampleInstance:
        return self.instances[name]

    @property
    def sop_uids(self) -> list[str]:
        return sorted(i.sop_instance_uid for i in self.instances.values())


def build_client_study(run_id: str, names: Sequence[str] = CLIENT_STUDY_FILES) -> ClientStudy:
    """The built-in corpus files `names` given one fresh study, their own series and SOP UIDs, one patient stamped
    with the run id (one PatientID per study, or a server keying studies by patient splits it). A name given twice
    is two instances, the second keyed `name#2`."""
    study_uid = new_uid()
    instances: dict[str, SampleInstance] = {}
    for number, name in enumerate(names, start=1):
        ds = parse(built_in_file(f"{name}.dcm").data)
        remap_uids(ds, UidRemapper())
        ds.StudyInstanceUID = study_uid
        ds.PatientName = CLIENT_PATIENT
        stamp_run(ds, run_id)
        key = name if name not in instances else f"{name}#{number}"
        instances[key] = instance_from_dataset(key, ds, reuse=True)
    return ClientStudy(study_uid, instances)


def store_client_study(dicomweb: Dicomweb, run_id: str) -> ClientStudy:
    study = build_client_study(run_id)
    dicomweb.store_and_wait(list(study.instances.values()), what="the dicomweb-client study")
    return study


# --- what the client does with an answer ---------------------------------------------------------------------------


def raise_for_status(response: requests.Response, what: str) -> None:
    """`_http_get` / `_http_post` call `response.raise_for_status()`: any 4xx or 5xx is an HTTPError for the user."""
    if response.status_code >= 400:
        raise fail(
            f"{what}: {CLIENT} raises requests.HTTPError",
            expected="a 2xx answer (raise_for_status)",
            actual=status_line(response),
            response=response,
        )


def json_datasets(response: requests.Response, what: str) -> list[dict[str, Any]]:
    """`_http_get_application_json.get` (591): an empty body is `[]`, a JSON object is wrapped into a list, anything
    else goes through `response.json()` (invalid JSON raises)."""
    raise_for_status(response, what)
    if not response.content:
        return []
    try:
        decoded = json.loads(response.content.decode("utf-8"))
    except ValueError as error:
        raise fail(
            f"{what}: {CLIENT} raises a JSONDecodeError",
            expected="an empty body or a JSON array of datasets",
            actual=f"{error}: {response.content[:120]!r}",
            response=response,
        ) from None
    if isinstance(decoded, dict):
        return [decoded]
    if not isinstance(decoded, list) or not all(isinstance(item, dict) for item in decoded):
        raise fail(
            f"{what}: not a list of datasets the client can hand on",
            expected="a JSON array of DICOM JSON datasets",
            actual=str(decoded)[:200],
            response=response,
        )
    return decoded


def uids_of(datasets: Sequence[dict[str, Any]], tag: str) -> list[str]:
    return [str((item.get(tag) or {}).get("Value", [""])[0]) for item in datasets]


def multipart_contents(response: requests.Response, what: str) -> list[bytes]:
    """The parts `_decode_multipart_message` (680) yields: the media type must be multipart/related; the boundary
    comes from the Content-Type's `boundary=` (without one, the whole body is one part); the body is split on CRLF
    '--' boundary; each part's headers, up to the first CRLFCRLF, are dropped (a part without one raises)."""
    raise_for_status(response, what)
    content_type = response.headers.get("Content-Type")
    if content_type is None:
        raise fail(
            f"{what}: no Content-Type; {CLIENT} raises KeyError (response.headers['content-type'])",
            expected="Content-Type: multipart/related; ...; boundary=...",
            actual=status_line(response),
            response=response,
        )
    media_type, *parameters = [item.strip() for item in content_type.split(";")]
    if media_type.lower() != "multipart/related":
        raise fail(
            f"{what}: {CLIENT} raises ValueError('Unexpected media type')",
            expected="multipart/related",
            actual=content_type,
            response=response,
        )
    boundary = next(
        (value.strip('"') for name, _, value in (p.partition("=") for p in parameters) if name.lower() == "boundary"),
        None,
    )
    if boundary is None:
        return [response.content]
    try:
        return list(_split(response.content, boundary.encode("utf-8")))
    except ValueError:
        raise fail(
            f"{what}: a part without CRLFCRLF after its headers; {CLIENT} raises ValueError",
            expected="every part: headers, CRLFCRLF, content",
            actual=f"{len(response.content)} bytes, boundary {boundary!r}",
            response=response,
        ) from None


def _split(body: bytes, boundary: bytes) -> Iterator[bytes]:
    delimiter = b"\r\n--" + boundary
    for chunk in body.split(delimiter):
        if chunk in (b"", b"--", b"\r\n") or chunk.startswith(b"--\r\n"):
            continue  # _extract_part_content (653): the preamble's and the epilogue's remains
        yield chunk[chunk.index(b"\r\n\r\n") + 4 :]


def dicom_datasets(response: requests.Response, what: str) -> list[Dataset]:
    """`_http_get_multipart_application_dicom` (1017): a single-part application/dicom answer is read with a warning;
    otherwise every multipart part must be a Part 10 stream `pydicom.dcmread` reads without force."""
    raise_for_status(response, what)
    if response.headers.get("Content-Type", "").startswith("application/dicom"):
        contents = [response.content]
    else:
        contents = multipart_contents(response, what)
    datasets: list[Dataset] = []
    for number, content in enumerate(contents, start=1):
        try:
            datasets.append(dcmread(BytesIO(content)))
        except Exception as error:  # pydicom's own error: what the user of the client would get
            raise fail(
                f"{what}: part {number} is not read by pydicom.dcmread; {CLIENT} raises {type(error).__name__}",
                expected="a Part 10 stream (preamble, DICM, File Meta)",
                actual=f"{error}: {content[:40]!r}",
                response=response,
            ) from None
    return datasets


def check_sop_instances(
    datasets: Sequence[Dataset], expected: Sequence[SampleInstance], what: str, response: requests.Response
) -> None:
    found = sorted(str(ds.get("SOPInstanceUID", "")) for ds in datasets)
    wanted = sorted(i.sop_instance_uid for i in expected)
    if found != wanted:
        raise fail(
            f"{what}: not every instance asked for, once",
            expected=[f"{i.name}: {i.sop_instance_uid}" for i in expected],
            actual=found,
            response=response,
        )


def stow_body(instances: Sequence[SampleInstance]) -> bytes:
    """`_encode_multipart_message` (766): CRLF before every delimiter, one Content-Type line per part."""
    body = BytesIO()
    for instance in instances:
        body.write(f"\r\n--{STOW_BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode())
        body.write(instance.data)
    body.write(f"\r\n--{STOW_BOUNDARY}--".encode())
    return body.getvalue()


def stow_like_the_client(dicomweb: Dicomweb, instances: Sequence[SampleInstance]) -> requests.Response:
    """POST {root}/studies as `store_instances` (2813) does: no Accept, the fixed boundary, and above 1 MB a chunked
    body with the client's extra headers (_http_post, 1524). Recorded in the ledger first."""
    dicomweb.record(instances)
    body = stow_body(instances)
    if len(body) <= STOW_CHUNK_SIZE:
        return dicomweb.client.post("studies", body, content_type=STOW_CONTENT_TYPE, accept=None)
    chunks = (body[offset : offset + STOW_CHUNK_SIZE] for offset in range(0, len(body), STOW_CHUNK_SIZE))
    headers = {"Transfer-Encoding": "chunked", "Cache-Control": "no-cache", "Connection": "Keep-Alive"}
    return dicomweb.client.post("studies", chunks, content_type=STOW_CONTENT_TYPE, accept=None, headers=headers)


def stow_response_dataset(response: requests.Response, what: str) -> Dataset:
    """What `store_instances` returns: the answer parsed only when its Content-Type is exactly one of
    STOW_RESPONSE_TYPES, else an empty Dataset (the user loses the ReferencedSOPSequence)."""
    raise_for_status(response, what)
    content_type = response.headers.get("Content-Type", "")
    if content_type not in STOW_RESPONSE_TYPES or not response.content:
        raise fail(
            f"{what}: {CLIENT} returns an empty Dataset (it parses only these exact Content-Types)",
            expected=" or ".join(STOW_RESPONSE_TYPES) + ", with a body",
            actual=f"{content_type!r}, {len(response.content)} bytes",
            response=response,
        )
    try:
        return Dataset.from_json(response.content.decode("utf-8"))
    except Exception as error:  # pydicom's own error, raised to the client's user
        raise fail(
            f"{what}: Dataset.from_json fails on the answer",
            expected="a DICOM JSON dataset",
            actual=f"{type(error).__name__}: {error}",
            response=response,
        ) from None
