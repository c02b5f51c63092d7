"""Start and stop a throw-away Orthanc with the DICOMweb plugin on a free loopback port.

Two generations, each a Debian release: "1.10" is Debian 12's Orthanc 1.10.1 + DICOMweb 1.7, "1.12" is
Debian 13's Orthanc 1.12.7 + DICOMweb 1.20. The host's own release runs from the host's packages; the other
runs as `chroot ROOT /usr/sbin/Orthanc CONFIG` in a cached Debian root (launchers/debian_root.py builds it on
first use), with its configuration and storage inside that root. No generation = the host's Orthanc.
The GDCM plugin (orthanc-gdcm) is loaded only when asked for.

Usage from the command line (prints the DICOMweb URL, runs until SIGTERM/SIGINT):
    python -m dicomweb_conformance.launchers.orthanc_server [--generation 1.10|1.12] [--gdcm] [--port N]
        [--workdir DIR] [--pidfile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests

from dicomweb_conformance.launchers.debian_root import DebianRootError, ensure_root, host_release
from dicomweb_conformance.launchers.local_server import (
    ServerStartError,
    free_port,
    serve_until,
    stop_process,
    stop_requests,
    wait_until,
)

ORTHANC_BINARY_CANDIDATES = ("Orthanc", "/usr/sbin/Orthanc")
CHROOT_BINARY = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
GDCM_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancGdcm.so")
INSTALL_HINT = "install it with: apt-get install -y orthanc orthanc-dicomweb"
GDCM_HINT = "install it with: apt-get install -y orthanc-gdcm"
# Orthanc generation -> the Debian release that packages it.
GENERATIONS = {"1.10": "bookworm", "1.12": "trixie"}
# The generation an OrthancServer with none given runs (unset: the host's). .ci/run pins 1.10, whose behaviour the
# facade's and the fault tests' expectations describe, so they hold on a Debian 13 host too.
GENERATION_ENV = "ORTHANC_GENERATION"


def find_orthanc_binary() -> str:
    for candidate in ORTHANC_BINARY_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise ServerStartError(f"Orthanc is not installed; {INSTALL_HINT}")


def orthanc_config(
    port: int, storage: Path, users: dict[str, str] | None = None, plugins: tuple[Path, ...] = (DICOMWEB_PLUGIN,)
) -> dict[str, object]:
    config: dict[str, object] = {
        "Name": "dicomweb-conformance",
        "HttpPort": port,
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "Plugins": [str(plugin) for plugin in plugins],
        "DicomServerEnabled": False,
        # Orthanc 1.10 and 1.12 have no bind-address option: they listen on every interface,
        # so refuse every non-loopback client.
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": bool(users),
        "RegisteredUsers": users or {},
        "HttpCompressionEnabled": False,
        "StableAge": 1,
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    return config


def debian_root_for(generation: str | None) -> Path | None:
    """The Debian root that runs `generation`, built if needed; None when the host's packages run it."""
    if generation is None:
        return None
    if generation not in GENERATIONS:
        raise ServerStartError(f"unknown Orthanc generation {generation!r}: choose one of {', '.join(GENERATIONS)}")
    release = GENERATIONS[generation]
    if release == host_release():
        return None
    try:
        return ensure_root(release)
    except DebianRootError as error:
        raise ServerStartError(f"cannot run Orthanc {generation} (Debian {release}): {error}") from None


@dataclass
class OrthancServer:
    """A throw-away Orthanc. `with OrthancServer() as server: server.dicomweb_url`.

    `generation` ("1.10" or "1.12", see GENERATIONS) picks the Debian release whose Orthanc runs; None runs
    the host's. `gdcm` loads the GDCM plugin too. Under a chroot, `workdir` must lie inside the root."""

    port: int = 0
    workdir: Path | None = None
    users: dict[str, str] | None = None
    start_timeout: float = 30.0
    generation: str | None = None
    gdcm: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _owns_workdir: bool = field(default=False, init=False, repr=False)
    _root: Path | None = field(default=None, init=False, repr=False)

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

    @property
    def root(self) -> Path | None:
        """The Debian root Orthanc runs in (chroot), or None when it runs from the host's packages."""
        return self._root

    def start(self) -> OrthancServer:
        self._root = root = debian_root_for(self.generation or os.environ.get(GENERATION_ENV) or None)
        plugins = (DICOMWEB_PLUGIN, GDCM_PLUGIN) if self.gdcm else (DICOMWEB_PLUGIN,)
        for plugin, hint in zip(plugins, (INSTALL_HINT, GDCM_HINT), strict=False):
            if not self._outside(plugin).exists():
                raise ServerStartError(f"the Orthanc plugin {self._outside(plugin)} is missing; {hint}")
        command = ["chroot", str(root), CHROOT_BINARY] if root else [find_orthanc_binary()]
        if self.workdir is None:
            # Under a chroot, configuration and storage live inside the root, where Orthanc sees them.
            scratch = root / "tmp" if root else None
            self.workdir = Path(tempfile.mkdtemp(prefix="orthanc-", dir=scratch))
            self._owns_workdir = True
        self.port = self.port or free_port()
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "orthanc.json"
        config = orthanc_config(self.port, self._inside(storage), self.users, plugins)
        config_path.write_text(json.dumps(config, indent=2))
        log = self.workdir / "orthanc.log"
        with log.open("wb") as log_file:
            # chroot(8) execs Orthanc, so the recorded pid is Orthanc's own.
            self._process = subprocess.Popen(
                [*command, str(self._inside(config_path))],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            wait_until(self._answers, timeout=self.start_timeout, process=self._process, log=log)
        except ServerStartError as error:
            self.stop()
            raise ServerStartError(f"Orthanc on port {self.port} {error}") from None
        return self

    def _outside(self, path: Path) -> Path:
        """Where a path Orthanc sees lies on the host."""
        return self._root / path.relative_to("/") if self._root else path

    def _inside(self, path: Path) -> Path:
        """Where Orthanc sees a host path: under a chroot, relative to the root, which must contain it."""
        if self._root is None:
            return path
        resolved, root = path.resolve(), self._root.resolve()
        if not resolved.is_relative_to(root):
            raise ServerStartError(f"{path} is outside the Debian root {root}: Orthanc {self.generation} cannot see it")
        return Path("/") / resolved.relative_to(root)

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
    parser.add_argument(
        "--generation",
        choices=sorted(GENERATIONS),
        help="1.10 = Debian 12's Orthanc, 1.12 = Debian 13's (default: the host's); the release that is not "
        "the host's runs in a cached Debian root, built on first use",
    )
    parser.add_argument("--gdcm", action="store_true", help="also load the GDCM plugin (orthanc-gdcm)")
    args = parser.parse_args(argv)
    stopping = stop_requests()
    try:
        server = OrthancServer(port=args.port, workdir=args.workdir, generation=args.generation, gdcm=args.gdcm)
        server.start()
    except ServerStartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
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
