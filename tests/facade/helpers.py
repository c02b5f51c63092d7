"""Small builders shared by the facade tests: DICOM files, multipart bodies and DICOM JSON readers."""

from __future__ import annotations

import io
import uuid
import warnings
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, SecondaryCaptureImageStorage
from requests_toolbelt.multipart.decoder import MultipartDecoder

DICOM_JSON = "application/dicom+json"
PATIENT_ID = "FACADE-TESTS"
REFERENCED_SOP_SEQUENCE = "00081199"
FAILED_SOP_SEQUENCE = "00081198"
RETRIEVE_URL = "00081190"
REFERENCED_SOP_CLASS_UID = "00081150"
REFERENCED_SOP_INSTANCE_UID = "00081155"
FAILURE_REASON = "00081197"
WADO_ACCEPT = 'multipart/related; type="application/dicom"'


def new_uid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def make_instance(
    *, study: str | None = None, series: str | None = None, side: int = 8, **overrides: object
) -> tuple[Dataset, bytes]:
    """A Secondary Capture, side x side MONOCHROME2, fresh UIDs; `overrides` set attributes by keyword."""
    sop = new_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = UID(sop)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.SOPInstanceUID = sop
    dataset.StudyInstanceUID = study or new_uid()
    dataset.SeriesInstanceUID = series or new_uid()
    dataset.PatientID = PATIENT_ID
    dataset.PatientName = "Facade^Test"
    dataset.Modality = "OT"
    dataset.Rows = dataset.Columns = side
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = dataset.BitsStored = 8
    dataset.HighBit = 7
    dataset.PixelRepresentation = 0
    dataset.PixelData = bytes(index % 251 for index in range(side * side))
    with warnings.catch_warnings():
        # Some tests store deliberately invalid values.
        warnings.simplefilter("ignore")
        for keyword, value in overrides.items():
            setattr(dataset, keyword, value)
        buffer = io.BytesIO()
        dataset.save_as(buffer, enforce_file_format=True)
    return dataset, buffer.getvalue()


def multipart(parts: list[tuple[bytes, str | None]], boundary: str = "facade-test-boundary") -> bytes:
    """A multipart/related body by hand (RFC 2046 5.1.1); a None content type leaves the header out."""
    chunks: list[bytes] = []
    for content, content_type in parts:
        chunks.append(f"--{boundary}\r\n".encode())
        if content_type is not None:
            chunks.append(f"Content-Type: {content_type}\r\n".encode())
        chunks.append(b"\r\n" + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def multipart_type(boundary: str = "facade-test-boundary", *, type_param: bool = True) -> str:
    media_type = f"multipart/related; boundary={boundary}"
    return media_type + '; type="application/dicom"' if type_param else media_type


def post(url: str, body: bytes, content_type: str | None, accept: str | None = DICOM_JSON) -> requests.Response:
    headers: dict[str, str | None] = {"Content-Type": content_type, "Accept": accept}
    return requests.post(url, data=body, headers=headers, timeout=30)


def store(base: str, *files: bytes, study: str | None = None) -> requests.Response:
    """STOW through the facade; `base` is the versioned URL (http://127.0.0.1:PORT/v2)."""
    url = f"{base}/studies" + (f"/{study}" if study else "")
    return post(url, multipart([(data, "application/dicom") for data in files]), multipart_type())


def sequence(dataset: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dataset.get(tag, {}).get("Value", [])
    return items


def value(item: dict[str, Any], tag: str) -> Any:
    return item[tag]["Value"][0]


def failure_reasons(dataset: dict[str, Any]) -> list[int]:
    return [value(item, FAILURE_REASON) for item in sequence(dataset, FAILED_SOP_SEQUENCE)]


def retrieve(url: str) -> requests.Response:
    return requests.get(url, headers={"Accept": WADO_ACCEPT}, timeout=30)


def retrieved_datasets(response: requests.Response) -> list[Dataset]:
    decoder = MultipartDecoder(response.content, response.headers["Content-Type"])
    return [dcmread(io.BytesIO(part.content)) for part in decoder.parts]
