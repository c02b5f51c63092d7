"""The CL-DWC verdicts are what the real dicomweb-client 0.61.2 does, on every CI target: Orthanc 1.10 and 1.12,
tiny-pacs, the Azure facade's v1 and v2 routes. On each, the suite's clients module runs with the shipped target
file, then the library itself performs, on the same server and on data of the same kind, the operation each check
reproduces. A check PASSes exactly where the library call returns the data without raising; it FAILs (or is a
declared KNOWN-DEVIATION) exactly where the library raises or comes back short. A NOT-APPLICABLE check judges
nothing and is not counted as agreement (see the test's rule)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomweb_conformance.checks.clients import CLIENT_STUDY_FILES, ClientStudy, build_client_study
from dicomweb_conformance.suites.clients.test_client_dicomweb_client import STOW_FILES
from tests.integration.client_targets import TARGETS, Served, assert_verdicts_agree, not_claimed, run_profile

MODULE = "suites/clients/test_client_dicomweb_client.py::"
FRAMES_ANY = (("application/octet-stream", "*"),)
MULTI_FRAME = "enhmr120_explicit"
Call = Callable[[DICOMwebClient, ClientStudy], bool]


@dataclass(frozen=True)
class Operation:
    """One library call with its defaults (unless named), the check reproducing it, and what 'the data' is."""

    name: str
    check: str
    call: Call


def _sop_uids(datasets: list[Dataset]) -> list[str]:
    return sorted(str(ds.SOPInstanceUID) for ds in datasets)


def _json_uids(datasets: list[dict[str, Any]], tag: str) -> list[str]:
    return sorted(str(item[tag]["Value"][0]) for item in datasets)


def _operations() -> list[Operation]:
    ops = [
        Operation(
            "search_for_studies(search_filters={StudyInstanceUID})",
            "test_dwc_search_accept_list",
            lambda c, s: (
                _json_uids(c.search_for_studies(search_filters={"StudyInstanceUID": s.study_uid}), "0020000D")
                == [s.study_uid]
            ),
        ),
        Operation(
            "search_for_studies(search_filters={PatientID: no match})",
            "test_dwc_search_without_match",
            lambda c, s: c.search_for_studies(search_filters={"PatientID": "NOSUCH-dwc-agree"}) == [],
        ),
        Operation(
            "search_for_series(study, limit=1, get_remaining=True)",
            "test_dwc_search_paging_ends",
            lambda c, s: (
                _json_uids(c.search_for_series(s.study_uid, limit=1, get_remaining=True), "0020000E")
                == sorted(i.series_uid for i in s.instances.values())
            ),
        ),
        Operation(
            "retrieve_study_metadata",
            "test_dwc_metadata[study]",
            lambda c, s: _json_uids(c.retrieve_study_metadata(s.study_uid), "00080018") == s.sop_uids,
        ),
        Operation(
            "retrieve_series_metadata",
            "test_dwc_metadata[series]",
            lambda c, s: len(c.retrieve_series_metadata(*_uids(s, CLIENT_STUDY_FILES[0])[:2])) == 1,
        ),
        Operation(
            "retrieve_instance_metadata",
            "test_dwc_metadata[instance]",
            lambda c, s: bool(c.retrieve_instance_metadata(*_uids(s, CLIENT_STUDY_FILES[0]))),
        ),
        Operation(
            "retrieve_study",
            "test_dwc_retrieve_default[study]",
            lambda c, s: _sop_uids(c.retrieve_study(s.study_uid)) == s.sop_uids,
        ),
        Operation(
            "retrieve_instance(enhmr120_explicit)",
            "test_dwc_multipart_framing[instance]",
            lambda c, s: (
                str(c.retrieve_instance(*_uids(s, "enhmr120_explicit")).SOPInstanceUID)
                == s["enhmr120_explicit"].sop_instance_uid
            ),
        ),
        Operation(
            "retrieve_instance_frames(enhmr120_explicit, [1, 2], (octet-stream, *))",
            "test_dwc_frames_any_syntax[enhmr120_explicit-1,2]",
            lambda c, s: _frames_back(
                c.retrieve_instance_frames(*_uids(s, "enhmr120_explicit"), [1, 2], FRAMES_ANY), 2
            ),
        ),
        Operation(
            "retrieve_series(sc8_explicit)",
            "test_dwc_multipart_framing[series]",
            lambda c, s: (
                _sop_uids(c.retrieve_series(*_uids(s, "sc8_explicit")[:2])) == [s["sc8_explicit"].sop_instance_uid]
            ),
        ),
    ]
    for name in CLIENT_STUDY_FILES:
        ops += _per_file_operations(name)
    return ops


def _uids(study: ClientStudy, name: str) -> tuple[str, str, str]:
    instance = study[name]
    return instance.study_uid, instance.series_uid, instance.sop_instance_uid


def _per_file_operations(name: str) -> list[Operation]:
    return [
        Operation(
            f"retrieve_series({name})",
            f"test_dwc_retrieve_default[series-{name}]",
            lambda c, s: _series_back(c, s, name),
        ),
        Operation(
            f"retrieve_instance({name})",
            f"test_dwc_retrieve_instance[{name}]",
            lambda c, s: str(c.retrieve_instance(*_uids(s, name)).SOPInstanceUID) == s[name].sop_instance_uid,
        ),
        Operation(
            f"retrieve_instance_frames({name}, [1])",
            f"test_dwc_frames_default[{name}]",
            lambda c, s: _frames_back(c.retrieve_instance_frames(*_uids(s, name), [1]), 1),
        ),
        Operation(
            f"retrieve_instance_frames({name}, [1], (octet-stream, *))",
            f"test_dwc_frames_any_syntax[{name}]",
            lambda c, s: _frames_back(c.retrieve_instance_frames(*_uids(s, name), [1], FRAMES_ANY), 1),
        ),
        Operation(
            f"retrieve_instance_rendered({name})",
            f"test_dwc_rendered_without_accept[{name}]",
            lambda c, s: bool(c.retrieve_instance_rendered(*_uids(s, name))),
        ),
    ]


def _series_back(client: DICOMwebClient, study: ClientStudy, name: str) -> bool:
    return _sop_uids(client.retrieve_series(*_uids(study, name)[:2])) == [study[name].sop_instance_uid]


def _frames_back(frames: list[bytes], count: int) -> bool:
    return len(frames) == count and all(frames)


def _store_found(client: DICOMwebClient, study: ClientStudy) -> bool:
    """store_instances of a body over 1 MB (the library chunks it), then every instance found by a search."""
    client.store_instances([dcmread(BytesIO(i.data)) for i in study.instances.values()])
    series = {i.series_uid for i in study.instances.values()}
    # Series by series: tiny-pacs has no study-level instance search (GET /studies/{s}/instances: 404).
    found = [i for se in series for i in client.search_for_instances(study.study_uid, se)]
    return _json_uids(found, "00080018") == study.sop_uids


def _store_response(client: DICOMwebClient, study: ClientStudy) -> bool:
    [instance] = study.instances.values()
    answer = client.store_instances([dcmread(BytesIO(instance.data))])
    return [str(i.ReferencedSOPInstanceUID) for i in answer.get("ReferencedSOPSequence", [])] == [
        instance.sop_instance_uid
    ]


def _attempt(call: Call, library: DICOMwebClient, study: ClientStudy) -> tuple[bool, str]:
    try:
        ok = call(library, study)
    except Exception as error:  # whatever the library raises is what its user gets
        return False, f"{type(error).__name__}: {str(error).split(' for url')[0][:80]}"
    return ok, "OK" if ok else "returned, data missing"


def _library_results(served: Served) -> tuple[dict[str, tuple[bool, str]], dict[str, str]]:
    """Every operation performed by the library on a study of its own; (ok, detail) and the operation's name."""
    library = DICOMwebClient(url=served.url, headers=served.headers)
    study = build_client_study("dwc-agree")
    library.store_instances([dcmread(BytesIO(i.data)) for i in study.instances.values()])
    operations = [
        Operation("store_instances (> 1 MB: chunked)", "test_dwc_store_instances", _store_found),
        Operation("store_instances -> its Dataset", "test_dwc_store_response", _store_response),
        *_operations(),
    ]
    studies = {
        "test_dwc_store_instances": build_client_study("dwc-agree", STOW_FILES),
        "test_dwc_store_response": build_client_study("dwc-agree", ["sc8_explicit"]),
    }
    results = {op.check: _attempt(op.call, library, studies.get(op.check, study)) for op in operations}
    return results, {op.check: op.name for op in operations}


@pytest.mark.parametrize("name", list(TARGETS))
def test_cl_dwc_verdicts_agree_with_the_library(tmp_path: Path, name: str) -> None:
    """The rule: a PASS agrees with a library call that returns the data; a FAIL or a KNOWN-DEVIATION with one
    that raises or comes back short. A NOT-APPLICABLE check (the target does not claim the capability) judges
    nothing: it is no agreement; the test shows what the library does there and requires only that the check is
    NOT-APPLICABLE exactly where the target file leaves the capability out."""
    with TARGETS[name]() as served:
        run = run_profile(tmp_path, served, "test_client_dicomweb_client")
        results, names = _library_results(served)
        unclaimed = not_claimed(served, run.conformance["checks"], MODULE)
    assert_verdicts_agree(name, run, MODULE, results, unclaimed, names)
