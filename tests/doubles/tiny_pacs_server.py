"""Start and stop a throw-away tiny-pacs 0.4.1 with its DICOMweb front-end on a free loopback port.

Everything is kept in memory (SQLite in memory, InMemoryStorage): stopping the process is the
only way to remove what was stored, so every run gets a fresh server.

Usage from the command line (prints the DICOMweb URL, runs until SIGTERM/SIGINT):
    python -m tests.doubles.tiny_pacs_server [--port N] [--token-file FILE] [--pidfile FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests

from dicomweb_conformance.launchers.local_server import (
    ServerStartError,
    free_port,
    read_tokens,
    serve_until,
    stop_process,
    stop_requests,
    tail,
    wait_until,
)

EXECUTABLE = "tiny-pacs"
INSTALL_HINT = 'install it with: pip install "tiny_pacs[dicomweb]==0.4.1"'
DICOMWEB_PREFIX = "/dicomweb"
# tiny-pacs keeps running without HTTP when it cannot bind its port: fail at once instead of timing out.
HTTP_BIND_FAILURE = "Cannot bind the shared HTTP server"


def find_tiny_pacs() -> str:
    """The tiny-pacs script of this interpreter's environment, else the one on PATH."""
    beside_python = Path(sys.executable).parent / EXECUTABLE
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(EXECUTABLE)
    if found:
        return found
    raise ServerStartError(f"tiny-pacs is not installed; {INSTALL_HINT}")


def overlay_config(http_port: int, tokens: list[str] | None) -> dict[str, object]:
    """The configuration laid over tiny-pacs' defaults (in-memory database and storage)."""
    dicomweb: dict[str, object] = {"on": True, "prefix": DICOMWEB_PREFIX}
    if tokens:
        dicomweb.update(auth="token", tokens=list(tokens))
    return {
        "ae": {"dump_ds": False},
        "log": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"simple": {"format": "%(asctime)s - %(levelname)-8s - %(name)-15s - %(message)s"}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "simple"}},
            "root": {"level": "INFO", "handlers": ["console"]},
        },
        "components": {
            "HttpServer": {"on": True, "host": "127.0.0.1", "port": http_port},
            "DICOMWeb": dicomweb,
            "InMemoryStorage": {"on": True, "overwrite": False},
        },
    }


@dataclass
class TinyPacsServer:
    """A throw-away tiny-pacs. `with TinyPacsServer(tokens=["t"]) as server: server.dicomweb_url`."""

    tokens: list[str] | None = field(default=None, repr=False)  # secrets stay out of reprs and tracebacks
    port: int = 0
    start_timeout: float = 30.0
    dimse_port: int = field(default=0, init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _workdir: Path | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.tokens is not None and not self.tokens:
            raise ValueError("tokens must hold at least one token, or be None for no authentication")

    @property
    def dicomweb_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{DICOMWEB_PREFIX}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> TinyPacsServer:
        executable = find_tiny_pacs()
        # The overlay holds the tokens: mkdtemp makes the folder readable by its owner only.
        self._workdir = Path(tempfile.mkdtemp(prefix="tiny-pacs-"))
        self.port = self.port or free_port()
        # Its DIMSE listener binds every interface (no bind-address option): a free high port,
        # and the suite never sends DIMSE traffic to it.
        self.dimse_port = free_port()
        overlay = self._workdir / "overlay.yaml"
        overlay.write_text(json.dumps(overlay_config(self.port, self.tokens), indent=2))  # JSON is YAML
        log = self._workdir / "tiny-pacs.log"
        command = [executable, "run", "-c", str(overlay), "-p", str(self.dimse_port)]
        try:
            with log.open("wb") as log_file:
                self._process = subprocess.Popen(
                    command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self._workdir
                )
            wait_until(lambda: self._answers(log), timeout=self.start_timeout, process=self._process, log=log)
        except (ServerStartError, OSError) as error:
            self.stop()
            raise ServerStartError(f"tiny-pacs on port {self.port} {error}") from None
        return self

    def _answers(self, log: Path) -> bool:
        """Any HTTP answer from /studies (401 included when tokens are on) means it is serving."""
        if HTTP_BIND_FAILURE in log.read_text(errors="replace"):
            raise ServerStartError(f"could not bind its HTTP port:\n{tail(log)}")
        try:
            requests.get(f"{self.dicomweb_url}/studies", timeout=1)
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> TinyPacsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token-file", type=Path, help="valid bearer tokens, one a line")
    parser.add_argument("--pidfile", type=Path, help="write the tiny-pacs pid here")
    args = parser.parse_args(argv)
    tokens = sorted(read_tokens(args.token_file)) if args.token_file else None
    if tokens == []:
        parser.error(f"{args.token_file} holds no token")
    stopping = stop_requests()
    server = TinyPacsServer(tokens=tokens, port=args.port).start()
    if args.pidfile:
        args.pidfile.write_text(str(server.pid))
    print(server.dicomweb_url, flush=True)
    try:
        serve_until(stopping, lambda: server.running)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
