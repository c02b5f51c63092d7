"""Under xdist, a worker reading the whole study list holds the other workers' stores and deletes meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path

from dicomweb_conformance.transport.server_changes import ServerChanges

WAIT_S = 30  # a hang guard, not a speed figure


def test_a_change_waits_while_another_worker_reads_the_shared_list(tmp_path: Path) -> None:
    reader, writer = ServerChanges(tmp_path, "run"), ServerChanges(tmp_path, "run")
    events: list[str] = []
    started = threading.Event()

    def change() -> None:
        started.set()
        with writer.changing():
            events.append("changed")

    with reader.still():
        thread = threading.Thread(target=change)
        thread.start()
        assert started.wait(WAIT_S)
        thread.join(0.5)  # it would have changed by now, were it not held
        events.append("read")
    thread.join(WAIT_S)
    assert events == ["read", "changed"]


def test_the_reader_waits_for_changes_under_way(tmp_path: Path) -> None:
    reader, writer = ServerChanges(tmp_path, "run"), ServerChanges(tmp_path, "run")
    events: list[str] = []
    started = threading.Event()

    def read() -> None:
        started.set()
        with reader.still():
            events.append("read")

    with writer.changing():
        thread = threading.Thread(target=read)
        thread.start()
        assert started.wait(WAIT_S)
        thread.join(0.5)
        events.append("changed")
    thread.join(WAIT_S)
    assert events == ["changed", "read"]


def test_the_reader_s_own_changes_and_a_serial_run_take_no_lock(tmp_path: Path) -> None:
    reader = ServerChanges(tmp_path, "run")
    with reader.still(), reader.changing():
        pass  # would wait on itself for ever
    serial = ServerChanges(None, "run")
    with serial.still(), serial.changing():
        pass
    assert serial.paths is None


def test_the_controller_removes_the_lock_files(tmp_path: Path) -> None:
    changes = ServerChanges(tmp_path, "run")
    with changes.changing():
        pass
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run.changes.lock", "run.gate.lock"]
    changes.remove()
    assert list(tmp_path.iterdir()) == []
