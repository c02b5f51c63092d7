"""Under xdist the workers of one run share the server. A check that reads what every client stored (the whole
study list, as Slicer lists it) asks the others to hold their stores and deletes while it reads (`still`); every
request that may change what the server holds waits for that, then runs beside the others (`changing`).

Two lock files per run beside the ledgers: a gate, which `still` closes so that no new change starts, and the
changes themselves, which it waits to see finished. A serial run takes no lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ServerChanges:
    def __init__(self, lock_dir: Path | None, run_id: str):
        self.paths = (lock_dir / f"{run_id}.gate.lock", lock_dir / f"{run_id}.changes.lock") if lock_dir else None
        self._still = False  # this process reads the shared list: its own changes must not wait on itself

    @contextmanager
    def changing(self) -> Iterator[None]:
        if self.paths is None or self._still:
            yield
            return
        gate, changes = self.paths
        with _locked(gate, fcntl.LOCK_SH):
            pass  # through the gate: waits while another worker reads the shared list
        with _locked(changes, fcntl.LOCK_SH):
            yield

    @contextmanager
    def still(self) -> Iterator[None]:
        if self.paths is None:
            yield
            return
        gate, changes = self.paths
        with _locked(gate, fcntl.LOCK_EX), _locked(changes, fcntl.LOCK_EX):
            self._still = True
            try:
                yield
            finally:
                self._still = False

    def remove(self) -> None:
        """The controller, after every worker ended."""
        for path in self.paths or ():
            path.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path, mode: int) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, mode)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
