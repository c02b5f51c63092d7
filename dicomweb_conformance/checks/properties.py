"""The property checks' requests and readings: store a generated instance, search the planned QIDO corpus under
its own PatientID, and read the entities a search answered."""

from __future__ import annotations

from collections.abc import Mapping

import requests

from dicomweb_conformance.checks.qido import encode_query, results_of
from dicomweb_conformance.checks.store import check_successful_store
from dicomweb_conformance.dicom.dicomjson import first
from dicomweb_conformance.dicom.generated_instances import DatasetSpec, build_instance
from dicomweb_conformance.dicom.levels import LEVEL_UID
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.store import Dicomweb


def store_generated(dicomweb: Dicomweb, spec: DatasetSpec, run_id: str) -> SampleInstance:
    """Store the instance `spec` describes (ledger first); a valid instance must be stored with 200."""
    instance = build_instance(spec, run_id)
    response = dicomweb.store([instance])
    check_successful_store(response, [instance], "store a generated valid instance")
    return instance


def search_path(level: str, patient_id: str, parameters: Mapping[str, str]) -> str:
    """The search resource scoped to one PatientID, so no other data of this or any run can answer. The matching
    syntax ("*", "?" and the UID list's ",") is sent as it is (checks/qido.py, encode_query)."""
    return f"{level}?{encode_query([('PatientID', patient_id), *parameters.items()])}"


def found_uids(response: requests.Response, level: str, what: str) -> list[str]:
    """The entity UIDs of a search answer, in the order given. A 204 or an empty array reads as no matches: which
    of the two an empty search must answer is the QIDO area's check (issue #4, "empty results (204 or 200 per
    profile)"), not the matching properties'."""
    return [str(first(result, LEVEL_UID[level])) for result in results_of(response, what)]
