"""The ledger of what a run stores: a JSON-lines file, a header naming the run and its target, then one line per
instance, written and flushed to disk *before* the instance is sent (transport/store.py Dicomweb.record is the one
writer). A run that finishes its cleanup removes its ledger; a run that crashed leaves it for `--dicomweb-sweep`
(plugin/cleanup.py), and only instances named in a ledger are ever deleted.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


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
