"""Shared plumbing for the local servers the project tests itself against."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType


class ServerStartError(RuntimeError):
    """A local server did not come up; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(ready: Callable[[], bool], *, timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"exited with {process.returncode} before it was ready:\n{tail(log)}")
        if ready():
            return
        time.sleep(0.05)
    raise ServerStartError(f"not ready after {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """Stop a server we started, by its pid: SIGTERM, then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)


def read_tokens(path: Path) -> set[str]:
    """One token a line; blank lines and lines starting with # are ignored."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def stop_requests() -> threading.Event:
    """Turn SIGTERM and SIGINT into an event. Install it before starting a server, so that a signal
    arriving during start-up still ends in an orderly stop instead of an orphaned child."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stopping


def serve_until(stopping: threading.Event, still_running: Callable[[], bool] = lambda: True) -> None:
    """Block a launcher's CLI until a stop is requested or what it serves stops by itself."""
    while still_running() and not stopping.wait(0.2):
        pass
