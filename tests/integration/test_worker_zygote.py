"""The xdist workers' zygote (launchers/worker_zygote.py) and its client, as real processes: what a child gets
(stdio, directory, environment, arguments, preloaded modules), the exit status it hands back, and what happens
when a side goes away; and that a suite run under -n really starts its workers through it (verdicts identical to a
serial run under -n: test_suite_on_orthanc.py and test_concurrency_keeps_verdicts.py)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.plugin.forked_workers import WORKER_START_ENV, Zygote
from tests.integration.suite_runner import ROOT, run_suite

PRINT_WHERE_AND_EXIT_3 = (
    "import os, sys; print(os.getcwd(), os.environ['ZYGOTE_CHECK'], sys.argv, 'numpy' in sys.modules, flush=True);"
    "print(sys.stdin.readline().strip()); sys.exit(3)"
)


@pytest.fixture
def zygote() -> Iterator[Zygote]:
    started = Zygote()
    yield started
    started.stop()


def as_worker(zygote: Zygote, code: str, cwd: Path, **popen: object) -> subprocess.Popen[str]:
    command = [*shlex.split(zygote.worker_python()), "-u", "-c", code, "an-argument"]
    environment = {**os.environ, "ZYGOTE_CHECK": "from-the-client"}
    started: subprocess.Popen[str] = subprocess.Popen(command, cwd=cwd, env=environment, text=True, **popen)  # type: ignore[call-overload]
    return started


def test_a_child_runs_the_code_as_python_would_with_the_clients_stdio_and_exits_as_it_does(
    zygote: Zygote, tmp_path: Path
) -> None:
    client = as_worker(zygote, PRINT_WHERE_AND_EXIT_3, tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    output, _ = client.communicate("a line on stdin\n", timeout=60)
    assert client.returncode == 3
    assert output.splitlines() == [f"{tmp_path} from-the-client ['-c', 'an-argument'] True", "a line on stdin"]


def test_a_child_killed_by_a_signal_kills_its_client_the_same_way(zygote: Zygote, tmp_path: Path) -> None:
    client = as_worker(zygote, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", tmp_path)
    assert client.wait(timeout=60) == -signal.SIGKILL


def test_a_killed_client_takes_its_child_with_it(zygote: Zygote, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    client = as_worker(zygote, code, tmp_path)
    child = int(wait_for_text(pid_file))
    client.kill()  # what execnet does to a worker that does not end
    client.wait(timeout=60)
    deadline = time.monotonic() + 30
    while is_running(child):
        assert time.monotonic() < deadline, f"worker {child} outlived its killed client"
        time.sleep(0.05)


def test_without_a_zygote_the_client_becomes_the_interpreter(tmp_path: Path) -> None:
    zygote = Zygote()
    zygote.stop()  # its socket is gone
    client = as_worker(zygote, PRINT_WHERE_AND_EXIT_3, tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    output, _ = client.communicate("still read\n", timeout=60)
    assert client.returncode == 3
    assert output.splitlines()[1] == "still read"


def test_stopping_ends_the_zygote_and_removes_its_folder(tmp_path: Path) -> None:
    zygote = Zygote()
    folder = Path(zygote.socket_path).parent
    zygote.stop()
    assert not folder.exists()


def wait_for_text(path: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)
    return path.read_text()


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a killed child stays one until the zygote reaps it: gone for our purpose)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # reaped, even between two reads
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_a_socket_path_too_long_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    with pytest.raises(OSError, match="too long"):
        Zygote()
    assert list(deep.iterdir()) == []  # its folder removed; the plugin then keeps xdist's own start


@pytest.mark.parametrize(("start", "forked"), [("fork", True), ("spawn", False)])
def test_a_suite_run_under_n_starts_its_workers_from_the_zygote(
    orthanc: OrthancServer, tmp_path: Path, start: str, forked: bool
) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    run = run_suite(
        tmp_path / "reports",
        *("--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", str(ROOT / "targets" / "orthanc.toml")),
        *("-n", "2", "-p", "tests.integration.worker_start_probe", "-k", "test_changefeed_errors"),
        env={"WORKER_START_PROBE": str(probe), WORKER_START_ENV: start},
    )
    assert run.returncode == 0, run.output[-3000:]
    command_lines = {path.name: path.read_bytes().split(b"\0") for path in probe.iterdir()}
    assert sorted(command_lines) == ["gw0", "gw1"]
    for command_line in command_lines.values():
        assert any(arg.endswith(b"worker_zygote.py") for arg in command_line) == forked, command_line
