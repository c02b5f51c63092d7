"""Removing what a run created: at its end, and in the sweep of crashed runs. Only instances named in a ledger
(transport/ledger.py) are ever deleted, plus what carries the run's own PatientID.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import partial

import requests

from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.transport.ledger import LedgerEntry
from dicomweb_conformance.transport.pool import run_all

PATIENT_ID_PREFIX = "DWCS-"  # dicomweb_conformance.dicom.samples stamps every PatientID DWCS-<run_id>-...


# None when the entry is gone, else why it is not.
Remover = Callable[[LedgerEntry], str | None]
# Removes many entries; returns those it could not remove, and why, in the ledger's order.
Removal = Callable[[Sequence[LedgerEntry]], list[tuple[LedgerEntry, str]]]

# One element of a UID list match (PS3.4 C.2.2.2.2), sent as Orthanc's /tools/find list: digits and dots only, so
# no value can carry the backslash that separates them. Anything else is looked up on its own.
_LISTABLE_UID = re.compile(r"[0-9.]{1,64}")
UIDS_PER_FIND = 100


def dicomweb_remover(session: requests.Session, target: TargetConfig) -> Remover:
    def remove(entry: LedgerEntry) -> str | None:
        url = target.url(f"studies/{entry.study}/series/{entry.series}/instances/{entry.sop}")
        status = session.delete(url, timeout=target.request_timeout).status_code
        if status == 404:
            return None
        if status not in (200, 202, 204):
            return f"the server answered {status} to DELETE"
        if status == 202:
            return None  # accepted for later: nothing to verify yet
        # A success is trusted only once the instance is no longer served.
        asked = session.get(
            f"{url}/metadata", headers={"Accept": "application/dicom+json"}, timeout=target.request_timeout
        )
        if asked.status_code != 404:
            return f"the server answered {status} to DELETE, then {asked.status_code} to its metadata"
        return None

    return remove


def orthanc_remover(session: requests.Session, target: TargetConfig) -> Remover:
    rest = target.orthanc_rest_root

    def remove(entry: LedgerEntry) -> str | None:
        found = session.post(f"{rest}/tools/lookup", data=entry.sop, timeout=target.request_timeout)
        if found.status_code == 400:
            return None  # not a UID Orthanc can look up; remove_run_leftovers finds it by the run's PatientID
        found.raise_for_status()
        for resource in found.json():
            if resource.get("Type") == "Instance":
                status = session.delete(f"{rest}{resource['Path']}", timeout=target.request_timeout).status_code
                if status not in (200, 404):
                    return f"Orthanc answered {status} to DELETE {resource['Path']}"
        return None

    return remove


def remove_run_leftovers(
    session: requests.Session, target: TargetConfig, run_id: str, concurrency: int = 1
) -> tuple[int, list[str]]:
    """Orthanc REST: remove every instance whose PatientID carries this run's id, whatever its UIDs are.

    The ledger names what was sent; a server that accepted an invalid UID (`11|`), or whose DICOMweb answers
    hid an instance, can still hold it. Every PatientID the suite stores is DWCS-<run_id>-..., so this finds
    exactly this run's instances and nothing else. Returns how many were found and the Orthanc ids left."""
    if target.cleanup_method != "orthanc-rest":
        return 0, []
    rest = target.orthanc_rest_root
    query = {"Level": "Instance", "Query": {"PatientID": f"{PATIENT_ID_PREFIX}{run_id}-*"}}
    found = session.post(f"{rest}/tools/find", json=query, timeout=target.request_timeout)
    found.raise_for_status()
    orthanc_ids = [str(orthanc_id) for orthanc_id in found.json()]

    def delete(orthanc_id: str) -> int:
        return session.delete(f"{rest}/instances/{orthanc_id}", timeout=target.request_timeout).status_code

    statuses = run_all([partial(delete, orthanc_id) for orthanc_id in orthanc_ids], concurrency)
    return len(orthanc_ids), [i for i, status in zip(orthanc_ids, statuses, strict=True) if status not in (200, 404)]


def orthanc_bulk_removal(session: requests.Session, target: TargetConfig, concurrency: int = 1) -> Removal:
    """Orthanc REST, in a few requests whatever the count: the ledger's instances found by a UID list match,
    deleted by one /tools/bulk-delete (Orthanc 1.9.4 and later; else one DELETE each), then searched again to
    verify they are gone. Entries the list did not find (never stored, already deleted, a UID Orthanc would not
    list) are looked up one by one, as orthanc_remover does."""
    rest = target.orthanc_rest_root
    timeout = target.request_timeout
    one_by_one = orthanc_remover(session, target)

    def held(sops: Sequence[str]) -> dict[str, list[str]]:
        found: defaultdict[str, list[str]] = defaultdict(list)
        for start in range(0, len(sops), UIDS_PER_FIND):
            listed = "\\".join(sops[start : start + UIDS_PER_FIND])
            query = {"Level": "Instance", "Query": {"SOPInstanceUID": listed}, "Expand": True}
            answer = session.post(f"{rest}/tools/find", json=query, timeout=timeout)
            answer.raise_for_status()
            for instance in answer.json():
                found[str(instance["MainDicomTags"]["SOPInstanceUID"])].append(str(instance["ID"]))
        return found

    def delete(orthanc_ids: list[str]) -> None:
        bulk = session.post(f"{rest}/tools/bulk-delete", json={"Resources": orthanc_ids}, timeout=timeout)
        if bulk.status_code == 200:
            return

        def one(orthanc_id: str) -> None:
            session.delete(f"{rest}/instances/{orthanc_id}", timeout=timeout)

        run_all([partial(one, orthanc_id) for orthanc_id in orthanc_ids], concurrency)

    def remove(entries: Sequence[LedgerEntry]) -> list[tuple[LedgerEntry, str]]:
        listable = sorted({entry.sop for entry in entries if _LISTABLE_UID.fullmatch(entry.sop)})
        try:
            found = held(listable)
            if found:
                delete([orthanc_id for ids in found.values() for orthanc_id in ids])
            kept = held(sorted(found))
        except (requests.RequestException, ValueError, KeyError):
            return remove_all(entries, one_by_one, concurrency)  # each entry's own error, if any, in its own words
        unfound = [entry for entry in entries if entry.sop not in found]
        failed = {id(entry): why for entry, why in remove_all(unfound, one_by_one, concurrency)}
        failures = []
        for entry in entries:
            why = "Orthanc still holds it after /tools/bulk-delete" if entry.sop in kept else failed.get(id(entry))
            if why is not None:
                failures.append((entry, why))
        return failures

    return remove


def removal_for(session: requests.Session, target: TargetConfig, concurrency: int = 1) -> Removal | None:
    if target.cleanup_method == "dicomweb-delete" or (target.cleanup_method == "none" and target.has("delete")):
        return partial(remove_all, remove=dicomweb_remover(session, target), concurrency=concurrency)
    if target.cleanup_method == "orthanc-rest":
        return orthanc_bulk_removal(session, target, concurrency)
    return None


def remove_all(entries: Iterable[LedgerEntry], remove: Remover, concurrency: int = 1) -> list[tuple[LedgerEntry, str]]:
    """Try every entry, `concurrency` at a time, keep going past errors; return what could not be removed and why,
    in the ledger's order."""

    def attempt(entry: LedgerEntry) -> str | None:
        try:
            return remove(entry)
        except (requests.RequestException, ValueError) as error:
            return f"{type(error).__name__}: {error}"

    listed = list(entries)
    outcomes = run_all([partial(attempt, entry) for entry in listed], concurrency)
    return [(entry, why) for entry, why in zip(listed, outcomes, strict=True) if why is not None]
