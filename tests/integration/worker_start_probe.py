"""Loaded with `-p tests.integration.worker_start_probe` into a suite run under -n: each xdist worker writes its
process's command line to $WORKER_START_PROBE/<worker id>. A worker forked from the zygote keeps the zygote's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    worker, folder = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("WORKER_START_PROBE")
    if worker and folder:
        Path(folder, worker).write_bytes(Path("/proc/self/cmdline").read_bytes())
