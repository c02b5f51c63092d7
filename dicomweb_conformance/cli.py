"""`dicomweb-conformance URL [--dicomweb-* options] [pytest options]`: the whole suite, from any directory.

PYTEST_DONT_REWRITE: imported before pytest starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

# Resolved: in a clone, suites/ is the repository's own folder (dicomweb_conformance/suites links to it).
from dicomweb_conformance.paths import PROJECT_ROOT as ROOT_DIR
from dicomweb_conformance.paths import SUITES_DIR

USAGE = """usage: dicomweb-conformance URL [--dicomweb-* options] [pytest options]

Runs the DICOMweb conformance suite against URL (the DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web) and
writes reports/report.html, reports/junit.xml and reports/conformance.json under the current directory.
Without URL, DICOMWEB_URL or a target file (--dicomweb-target) must name the server.
`dicomweb-conformance --help` lists every option (the --dicomweb-* ones under "dicomweb")."""


def pytest_arguments(argv: Sequence[str], workdir: Path) -> list[str]:
    """What the command hands to pytest: the installed suites, this project's settings, reports under `workdir`."""
    args = list(argv)
    url: list[str] = []
    if args and not args[0].startswith("-"):
        url = ["--dicomweb-url", args.pop(0)]
    return [
        str(SUITES_DIR),
        # Node ids suites/..., as in a clone; nothing is written there.
        f"--rootdir={ROOT_DIR}",
        f"--confcutdir={ROOT_DIR}",
        "-c", os.devnull,  # no stray ini file from the directory it runs in
        "-p", "no:cacheprovider",
        "--strict-markers",
        "-rfE",
        f"--dicomweb-reports={workdir / 'reports'}",
        f"--dicomweb-ledger-dir={workdir / '.dicomweb-ledger'}",
        *url,
        *args,
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--usage"]):
        print(USAGE)
        return 0
    return int(pytest.main(pytest_arguments(args, Path.cwd())))


if __name__ == "__main__":
    raise SystemExit(main())
