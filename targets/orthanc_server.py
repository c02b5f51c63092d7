"""Start and stop a throw-away Orthanc with the DICOMweb plugin on a free loopback port.

Usage from the command line (prints the DICOMweb URL, runs until SIGTERM/SIGINT):
    python -m targets.orthanc_server [--port N] [--workdir DIR] [--pidfile FILE]
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

from targets.local_server import ServerStartError, free_port, serve_until, stop_process, stop_requests, wait_until

ORTHANC_BINARY_CANDIDATES = ("Orthanc", "/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
INSTALL_HINT = "install it with: apt-get install -y orthanc orthanc-dicomweb"


def find_orthanc_binary() -> str:
    for candidate in ORTHANC_BINARY_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise ServerStartError(f"Orthanc is not installed; {INSTALL_HINT}")


def orthanc_config(port: int, storage: Path, users: dict[str, str] | None = None) -> dict[str, object]:
    config: dict[str, object] = {
        "Name": "dicomweb-conformance",
        "HttpPort": port,
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomServerEnabled": False,
        # Orthanc 1.10 has no bind-address option: it listens on every interface,
        # so refuse every non-loopback client.
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": bool(users),
        "RegisteredUsers": users or {},
        "HttpCompressionEnabled": False,
        "StableAge": 1,
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    return config


@dataclass
class OrthancServer:
    """A throw-away Orthanc. `with OrthancServer() as server: server.dicomweb_url`."""

    port: int = 0
    workdir: Path | None = None
    users: dict[str, str] | None = None
    start_timeout: float = 30.0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _owns_workdir: bool = field(default=False, init=False, repr=False)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.rest_url}/dicom-web"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> OrthancServer:
        binary = find_orthanc_binary()
        if not DICOMWEB_PLUGIN.exists():
            raise ServerStartError(f"the Orthanc DICOMweb plugin is missing ({DICOMWEB_PLUGIN}); {INSTALL_HINT}")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="orthanc-"))
            self._owns_workdir = True
        self.port = self.port or free_port()
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "orthanc.json"
        config_path.write_text(json.dumps(orthanc_config(self.port, storage, self.users), indent=2))
        log = self.workdir / "orthanc.log"
        with log.open("wb") as log_file:
            self._process = subprocess.Popen(
                [binary, str(config_path)], stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            wait_until(self._answers, timeout=self.start_timeout, process=self._process, log=log)
        except ServerStartError as error:
            self.stop()
            raise ServerStartError(f"Orthanc on port {self.port} {error}") from None
        return self

    def _answers(self) -> bool:
        auth = next(iter(self.users.items())) if self.users else None
        try:
            return requests.get(f"{self.rest_url}/system", timeout=1, auth=auth).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None
        if self._owns_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> OrthancServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--pidfile", type=Path, help="write the Orthanc pid here")
    args = parser.parse_args(argv)
    stopping = stop_requests()
    server = OrthancServer(port=args.port, workdir=args.workdir).start()
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
