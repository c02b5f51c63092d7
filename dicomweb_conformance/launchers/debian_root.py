"""Build and cache a minimal Debian root holding Orthanc, for an Orthanc generation the host does not package.

Debian 12 (bookworm) packages Orthanc 1.10.1 + DICOMweb 1.7, Debian 13 (trixie) Orthanc 1.12.7 + DICOMweb
1.20 + GDCM 1.8. A root is `debootstrap --variant=minbase RELEASE` from the mirror apt uses here, with
orthanc, orthanc-dicomweb and orthanc-gdcm installed inside it (services kept from starting by policy-rc.d);
`chroot ROOT /usr/sbin/Orthanc CONFIG` then serves on loopback. Needs root (debootstrap, chroot).

Roots live in $DICOMWEB_DEBIAN_ROOTS (default /var/cache/dicomweb-conformance) as <release>-root. Building is
idempotent (a complete root is reused), serialised by a lock file (a second builder waits, then reuses), and
atomic: it happens in a hidden temporary directory renamed into place only when complete, so an interrupted
build is never taken for a root; the next builder removes its leftovers.

Usage (prints the root's path; builds it first if needed):
    python -m dicomweb_conformance.launchers.debian_root trixie
    python -m dicomweb_conformance.launchers.debian_root --not-host      # every supported release but the host's own
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

RELEASES = ("bookworm", "trixie")
PACKAGES = ("orthanc", "orthanc-dicomweb", "orthanc-gdcm")
ROOTS_ENV = "DICOMWEB_DEBIAN_ROOTS"
MIRROR_ENV = "DICOMWEB_DEBIAN_MIRROR"
DEFAULT_ROOTS = Path("/var/cache/dicomweb-conformance")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Written last, inside the root, before the rename: what was installed and how long it took.
MARKER = ".dicomweb-conformance-root.json"
# Keeps package scripts from starting the Debian service inside the root (invoke-rc.d obeys it).
POLICY_RC_D = "#!/bin/sh\n# dicomweb-conformance: never start services in this root\nexit 101\n"


class DebianRootError(RuntimeError):
    """A Debian root could not be built; the message says why (and carries the tail of the build log)."""


def host_release(os_release: Path = Path("/etc/os-release")) -> str | None:
    """The host's Debian codename (VERSION_CODENAME), or None when it is not said."""
    try:
        lines = os_release.read_text().splitlines()
    except OSError:
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    codename = values.get("VERSION_CODENAME", "").strip().strip('"')
    return codename or None


def apt_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt uses here ($DICOMWEB_DEBIAN_MIRROR overrides): the first URI of a source
    that is not the security archive, in deb822 (*.sources) or one-line (sources.list) format."""
    if os.environ.get(MIRROR_ENV):
        return os.environ[MIRROR_ENV]
    for path in sorted((sources_dir / "sources.list.d").glob("*.sources")):
        for stanza in _read(path).split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
            )
            uris = fields.get("URIs", "").split()
            if fields.get("Types", "").split() == ["deb"] and uris and "security" not in uris[0]:
                return uris[0]
    for path in [sources_dir / "sources.list", *sorted((sources_dir / "sources.list.d").glob("*.list"))]:
        for line in _read(path).splitlines():
            words = line.split()
            if len(words) >= 3 and words[0] == "deb" and "security" not in words[1]:
                return words[2] if words[1].startswith("[") else words[1]
    return DEFAULT_MIRROR


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def roots_dir() -> Path:
    return Path(os.environ.get(ROOTS_ENV) or DEFAULT_ROOTS)


def root_path(release: str) -> Path:
    return roots_dir() / f"{release}-root"


def complete_root(release: str) -> Path | None:
    """The cached root of `release` if a build finished, else None. Never builds."""
    root = root_path(release)
    return root if (root / MARKER).is_file() else None


def ensure_root(release: str, *, log: Path | None = None) -> Path:
    """The root of `release`, built first if no complete one is cached. Safe to call from several processes."""
    if release not in RELEASES:
        raise DebianRootError(f"unsupported release {release!r}: choose one of {', '.join(RELEASES)}")
    found = complete_root(release)
    if found:
        return found
    if os.geteuid() != 0:
        raise DebianRootError(f"building the Debian {release} root needs root (debootstrap, chroot); run as root")
    if not shutil.which("debootstrap"):
        raise DebianRootError("debootstrap is missing; install it with: apt-get install -y debootstrap")
    roots = roots_dir()
    roots.mkdir(parents=True, exist_ok=True)
    with _locked(roots / f"{release}-root.lock") as lock_fd:
        found = complete_root(release)  # another builder finished while this one waited
        if found:
            return found
        if root_path(release).exists():
            raise DebianRootError(f"{root_path(release)} exists but is not a complete root; remove it to rebuild")
        _remove_interrupted_builds(roots, release)
        building = Path(tempfile.mkdtemp(dir=roots, prefix=f".{release}-root.building-"))
        building.chmod(0o755)  # it becomes the chroot's "/"
        build_log = log or roots / f"{release}-root.build.log"
        try:
            _build(release, building, build_log, lock_fd)
            os.rename(building, root_path(release))
        except BaseException:
            _remove_build(building)
            raise
    return root_path(release)


@contextmanager
def _locked(lock_file: Path) -> Iterator[int]:
    with lock_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another build of this root to finish ({lock_file})", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle.fileno()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_interrupted_builds(roots: Path, release: str) -> None:
    """Under the lock no other build runs, so every temporary build directory is a dead build's leftover."""
    for leftover in roots.glob(f".{release}-root.building-*"):
        _remove_build(leftover)


def _remove_build(building: Path) -> None:
    """Remove a temporary build directory. debootstrap mounts /proc (and /sys) inside its target while it works
    and a killed debootstrap leaves them mounted: unmount those first, and never delete across a mount."""
    for mount in sorted(_mounts_under(building), key=lambda path: len(path.parts), reverse=True):
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount)], capture_output=True)
    still = _mounts_under(building)
    if still:
        raise DebianRootError(f"cannot remove {building} (an interrupted build): still mounted: {still}")
    shutil.rmtree(building, ignore_errors=True)


def _mounts_under(directory: Path) -> list[Path]:
    return [mount for mount in _mount_points() if mount == directory or directory in mount.parents]


def _mount_points() -> list[Path]:
    # /proc/self/mountinfo field 5 is the mount point, with spaces escaped as \040.
    lines = _read(Path("/proc/self/mountinfo")).splitlines()
    return [Path(line.split()[4].replace("\\040", " ")) for line in lines if len(line.split()) > 4]


def _build(release: str, root: Path, log: Path, lock_fd: int) -> None:
    started = time.monotonic()
    mirror = apt_mirror()
    print(f"building a Debian {release} root with Orthanc in {root} from {mirror} (log: {log})", file=sys.stderr)
    with log.open("w") as log_file:

        def run(*command: str) -> None:
            log_file.write(f"$ {' '.join(command)}\n")
            log_file.flush()
            env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
            # Its own process group, so that an interrupted build kills debootstrap's children (dpkg, wget) too;
            # it inherits the lock, so that after a SIGKILL of this process the next build waits for the orphans.
            process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                pass_fds=(lock_fd,),
            )
            try:
                returncode = process.wait()
            except BaseException:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise
            if returncode != 0:
                log_file.flush()
                tail = "\n".join(_read(log).splitlines()[-25:])
                raise DebianRootError(f"building the {release} root failed ({command[0]} {command[1]}):\n{tail}")

        run("debootstrap", "--variant=minbase", release, str(root), mirror)
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text(POLICY_RC_D)
        policy.chmod(0o755)
        # No /proc is needed: the packages install and Orthanc runs without it (measured on trixie).
        run("chroot", str(root), "apt-get", "update", "-qq")
        run("chroot", str(root), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES)
        run("chroot", str(root), "apt-get", "clean")
    versions = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f", "${Package} ${Version}\n", *PACKAGES],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seconds = round(time.monotonic() - started, 1)
    facts = {
        "release": release,
        "mirror": mirror,
        "packages": dict(line.split(" ", 1) for line in versions.splitlines() if " " in line),
        "build_seconds": seconds,
    }
    (root / MARKER).write_text(json.dumps(facts, indent=2) + "\n")
    print(f"built the Debian {release} root in {seconds:.0f} s: {facts['packages']}", file=sys.stderr)


def root_facts(root: Path) -> dict[str, object]:
    """What the marker of a complete root says (release, mirror, package versions, build time)."""
    return dict(json.loads((root / MARKER).read_text()))


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("releases", nargs="*", metavar="RELEASE", help=" or ".join(RELEASES))
    parser.add_argument("--not-host", action="store_true", help="every supported release but the host's own")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the build's child is killed and its temporary directory removed.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    releases = list(args.releases)
    if args.not_host:
        releases += [release for release in RELEASES if release != host_release() and release not in releases]
    if not releases and not args.not_host:
        parser.error("name a release or give --not-host")
    try:
        for release in releases:
            print(ensure_root(release), flush=True)
    except DebianRootError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
