"""The ledger of what this run created, the cleanup at the end, and the sweep of crashed runs.

A ledger is a JSON-lines file: a header naming the run and its target, then one line per
instance, written and flushed to disk *before* the instance is sent. A run that finishes
its cleanup removes its ledger; a run that crashed leaves it for `--dicomweb-sweep`.
Only instances named in a ledger are ever deleted.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import requests

from dicomweb_conformance.config.target import TargetConfig, derive_rest_root

PATIENT_ID_PREFIX = "DWCS-"  # dicomweb_conformance.dicom.samples stamps every PatientID DWCS-<run_id>-...


@dataclass(frozen=True)
class LedgerEntry:
    study: str
    series: str
    sop: str


class Ledger:
    def __init__(self, path: Path, *, run_id: str, target_url: str):
        self.path = path
        self.run_id = run_id
        self.target_url = target_url
        self._lock = threading.Lock()
        self._entries: dict[str, LedgerEntry] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "run_id": run_id,
            "target": target_url,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.time(),
        }
        self._append(header)

    def record(self, entries: Iterable[LedgerEntry]) -> None:
        with self._lock:
            for entry in entries:
                if entry.sop not in self._entries:
                    self._entries[entry.sop] = entry
                    self._append(entry.__dict__)

    def forget(self, sops: Iterable[str]) -> None:
        """The run deleted these itself (a delete check); cleanup need not try again."""
        with self._lock:
            for sop in sops:
                self._entries.pop(sop, None)

    @property
    def entries(self) -> list[LedgerEntry]:
        with self._lock:
            return list(self._entries.values())

    def _append(self, record: dict[str, object]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


@dataclass(frozen=True)
class StaleLedger:
    path: Path
    run_id: str
    target_url: str
    entries: list[LedgerEntry]


def read_ledger(path: Path) -> StaleLedger | None:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines or "run_id" not in lines[0]:
        return None
    header = lines[0]
    if header.get("host") == socket.gethostname() and _alive(int(header.get("pid", 0))):
        return None  # that run is still going: its data is not ours to touch
    entries = {line["sop"]: LedgerEntry(**line) for line in lines[1:] if "sop" in line}
    return StaleLedger(path, str(header["run_id"]), str(header["target"]), list(entries.values()))


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_ledgers(directory: Path, target_url: str) -> list[StaleLedger]:
    found = []
    for path in sorted(directory.glob("*.jsonl")):
        ledger = read_ledger(path)
        if ledger is not None and ledger.target_url.rstrip("/") == target_url.rstrip("/"):
            found.append(ledger)
    return found


# None when the entry is gone, else why it is not.
Remover = Callable[[LedgerEntry], str | None]


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
    rest = (target.cleanup_rest_url or derive_rest_root(target.base_url)).rstrip("/")

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


def remove_run_leftovers(session: requests.Session, target: TargetConfig, run_id: str) -> tuple[int, list[str]]:
    """Orthanc REST: remove every instance whose PatientID carries this run's id, whatever its UIDs are.

    The ledger names what was sent; a server that accepted an invalid UID (`11|`), or whose DICOMweb answers
    hid an instance, can still hold it. Every PatientID the suite stores is DWCS-<run_id>-..., so this finds
    exactly this run's instances and nothing else. Returns how many were found and the Orthanc ids left."""
    if target.cleanup_method != "orthanc-rest":
        return 0, []
    rest = (target.cleanup_rest_url or derive_rest_root(target.base_url)).rstrip("/")
    query = {"Level": "Instance", "Query": {"PatientID": f"{PATIENT_ID_PREFIX}{run_id}-*"}}
    found = session.post(f"{rest}/tools/find", json=query, timeout=target.request_timeout)
    found.raise_for_status()
    left = []
    for orthanc_id in found.json():
        status = session.delete(f"{rest}/instances/{orthanc_id}", timeout=target.request_timeout).status_code
        if status not in (200, 404):
            left.append(str(orthanc_id))
    return len(found.json()), left


def remover_for(session: requests.Session, target: TargetConfig) -> Remover | None:
    if target.cleanup_method == "dicomweb-delete" or (target.cleanup_method == "none" and target.has("delete")):
        return dicomweb_remover(session, target)
    if target.cleanup_method == "orthanc-rest":
        return orthanc_remover(session, target)
    return None


def remove_all(entries: Iterable[LedgerEntry], remove: Remover) -> list[tuple[LedgerEntry, str]]:
    """Try every entry, keep going past errors; return what could not be removed and why."""
    failures = []
    for entry in entries:
        try:
            why = remove(entry)
            if why is not None:
                failures.append((entry, why))
        except (requests.RequestException, ValueError) as error:
            failures.append((entry, f"{type(error).__name__}: {error}"))
    return failures
