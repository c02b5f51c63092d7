"""xdist workers forked from a process that has already imported their libraries (launchers/worker_zygote.py).

A worker xdist starts is a fresh interpreter: about a second of imports (pytest, numpy, pydicom, hypothesis,
requests) before it collects, on every worker, and on two cores the controller's own start leaves one core idle.
So when the command line asks for workers (-n), this module, imported among the first of the suite's plugins,
starts a zygote that does those imports beside the controller's; once xdist has made its plan, its plain `popen`
workers start through the zygote's client instead of a new interpreter. Workers given with --tx, `-n 0`, a
platform without fork or unix sockets, DICOMWEB_WORKER_START=spawn, or a pytest run that is not the suite's
(the zygote started on a guess is stopped): xdist's own start, untouched.
"""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

LAUNCHERS = Path(__file__).resolve().parents[1] / "launchers"
WORKER_START_ENV = "DICOMWEB_WORKER_START"


def asks_for_workers(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether pytest's command line (with PYTEST_ADDOPTS) names a number of xdist workers other than 0."""
    args = [*shlex.split(environ.get("PYTEST_ADDOPTS", "")), *argv]
    for index, arg in enumerate(args):
        if arg in ("-n", "--numprocesses"):
            value = args[index + 1] if index + 1 < len(args) else "0"
        elif arg.startswith("--numprocesses="):
            value = arg.partition("=")[2]
        elif arg.startswith("-n") and not arg.startswith("--"):
            value = arg[2:]
        else:
            continue
        if value.strip() not in ("", "0"):
            return True
    return False


def can_fork(environ: Mapping[str, str]) -> bool:
    return (
        environ.get(WORKER_START_ENV, "fork") != "spawn"
        and hasattr(os, "fork")
        and hasattr(os, "waitstatus_to_exitcode")
        and sys.platform.startswith("linux")
    )


class Zygote:
    def __init__(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="dicomweb-workers-")
        self.socket_path = os.path.join(self._folder, "zygote")
        try:
            self._process: subprocess.Popen[bytes] | None = self._start()
        except OSError:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        atexit.register(self.stop)

    def _start(self) -> subprocess.Popen[bytes]:
        # Listening before the zygote runs: a worker that comes while it imports waits in the backlog.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(self.socket_path)
            listener.listen(64)
            # stdin: a pipe whose end (ours, at exit or crash) tells the zygote to go.
            return subprocess.Popen(
                [sys.executable, str(LAUNCHERS / "worker_zygote.py"), str(listener.fileno())],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                pass_fds=(listener.fileno(),),
            )

    def worker_python(self) -> str:
        """An execnet `python=` value: the client, which execnet runs with `-u -c CODE` appended."""
        client = LAUNCHERS / "worker_zygote_client.py"
        return shlex.join([sys.executable, "-S", "-I", str(client), self.socket_path])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


def _start_zygote() -> Zygote | None:
    worker = "PYTEST_XDIST_WORKER" in os.environ
    if worker or not can_fork(os.environ) or not asks_for_workers(sys.argv[1:], os.environ):
        return None
    try:
        return Zygote()
    except OSError:  # e.g. a TMPDIR too long for a unix socket's path: xdist's own start, slower but the same
        return None


# Started on import, not in a hook: the zygote's imports must overlap the controller's loading of its plugins.
ZYGOTE = _start_zygote()


# Before xdist's controller starts its workers (its trylast pytest_sessionstart), not in pytest_configure: xdist
# registers that controller ("dsession") in a trylast pytest_configure, and among trylast implementations the order
# follows plugin registration, which follows the order in which the environment happens to list its entry points.
@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if ZYGOTE is None:
        return
    # Here, not at the top: imported before pytest imports it as a plugin, its asserts would not be rewritten.
    from dicomweb_conformance.plugin.options import is_conformance_run

    specs = config.getoption("tx", None) or []
    distributed = config.pluginmanager.has_plugin("dsession") and specs and all(spec == "popen" for spec in specs)
    if distributed and is_conformance_run(config):
        config.option.tx = [f"popen//python={ZYGOTE.worker_python()}"] * len(specs)
        config.add_cleanup(ZYGOTE.stop)
    else:
        ZYGOTE.stop()
