"""The ledger: written before sending, survives a crash, and only live runs' ledgers are left alone."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from dicomweb_conformance.plugin.cleanup import remove_all
from dicomweb_conformance.transport.ledger import Ledger, LedgerEntry, read_ledger, stale_ledgers

URL = "http://127.0.0.1:1/dicom-web"


def test_entries_are_on_disk_as_soon_as_recorded(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "run.jsonl", run_id="r1", target_url=URL)
    ledger.record([LedgerEntry("1.2", "1.2.3", "1.2.3.4")])
    lines = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert lines[0]["run_id"] == "r1"
    assert lines[1] == {"study": "1.2", "series": "1.2.3", "sop": "1.2.3.4"}


def test_a_live_runs_ledger_is_not_stale(tmp_path: Path) -> None:
    Ledger(tmp_path / "live.jsonl", run_id="live", target_url=URL)
    assert read_ledger(tmp_path / "live.jsonl") is None  # our own pid is alive


def test_a_dead_runs_ledger_is_stale_and_scoped_to_its_target(tmp_path: Path) -> None:
    dead_pid = 2**22 + 12345
    header = {"run_id": "dead", "target": URL, "host": os.uname().nodename, "pid": dead_pid}
    entry = {"study": "1", "series": "2", "sop": "3"}
    (tmp_path / "dead.jsonl").write_text(json.dumps(header) + "\n" + json.dumps(entry) + "\n")
    found = stale_ledgers(tmp_path, URL)
    assert [ledger.run_id for ledger in found] == ["dead"]
    assert found[0].entries == [LedgerEntry("1", "2", "3")]
    assert stale_ledgers(tmp_path, "http://127.0.0.1:2/other") == []


def test_forgotten_entries_are_not_cleaned_again(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "run.jsonl", run_id="r", target_url=URL)
    ledger.record([LedgerEntry("1", "2", "3"), LedgerEntry("1", "2", "4")])
    ledger.forget(["3"])
    assert [entry.sop for entry in ledger.entries] == ["4"]


def test_removal_keeps_going_past_errors() -> None:
    entries = [LedgerEntry("1", "2", str(n)) for n in range(4)]

    def remove(entry: LedgerEntry) -> str | None:
        if entry.sop == "1":
            raise ValueError("boom")
        return "the server answered 403 to DELETE" if entry.sop == "2" else None

    failures = remove_all(entries, remove)
    assert [(entry.sop, why) for entry, why in failures] == [
        ("1", "ValueError: boom"),
        ("2", "the server answered 403 to DELETE"),
    ]


def test_concurrent_removal_tries_every_entry_and_reports_in_ledger_order() -> None:
    entries = [LedgerEntry("1", "2", str(n)) for n in range(20)]
    tried: list[str] = []
    in_flight = threading.Semaphore(0)

    def remove(entry: LedgerEntry) -> str | None:
        tried.append(entry.sop)
        if entry.sop == "0":
            # Held until a later entry is being removed: the removals overlap.
            assert in_flight.acquire(timeout=30), "no other removal ran beside the first"
        else:
            in_flight.release()
        return "the server answered 403 to DELETE" if int(entry.sop) % 7 == 0 else None

    failures = remove_all(entries, remove, concurrency=4)
    assert sorted(tried, key=int) == [str(n) for n in range(20)]
    assert [entry.sop for entry, _ in failures] == ["0", "7", "14"]
