"""Under xdist, a worker reading the whole study list holds the other workers' stores and deletes meanwhile."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from pathlib import Path

from dicomweb_conformance.transport.server_changes import ServerChanges

WAIT_S = 30  # a hang guard, not a speed figure


def _order_of(holding: AbstractContextManager[None], waiting: AbstractContextManager[None]) -> list[str]:
    """`waiting` entered from another thread while `holding` is held: the order the two sections ran in."""
    events: list[str] = []
    started = threading.Event()

    def enter() -> None:
        started.set()
        with waiting:
            events.append("waiting")

    with holding:
        thread = threading.Thread(target=enter)
        thread.start()
        assert started.wait(WAIT_S)
        thread.join(0.5)  # it would have run by now, were it not held
        events.append("holding")
    thread.join(WAIT_S)
    return events


def test_a_change_waits_while_another_worker_reads_the_shared_list(tmp_path: Path) -> None:
    reader, writer = ServerChanges(tmp_path, "run"), ServerChanges(tmp_path, "run")
    assert _order_of(reader.still(), writer.changing()) == ["holding", "waiting"]


def test_the_reader_waits_for_changes_under_way(tmp_path: Path) -> None:
    reader, writer = ServerChanges(tmp_path, "run"), ServerChanges(tmp_path, "run")
    assert _order_of(writer.changing(), reader.still()) == ["holding", "waiting"]


def test_changes_run_beside_each_other(tmp_path: Path) -> None:
    one, other = ServerChanges(tmp_path, "run"), ServerChanges(tmp_path, "run")
    entered = threading.Event()

    def change() -> None:
        with other.changing():
            entered.set()

    with one.changing():
        thread = threading.Thread(target=change)
        thread.start()
        assert entered.wait(WAIT_S), "a change waited for another change"
    thread.join(WAIT_S)


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
