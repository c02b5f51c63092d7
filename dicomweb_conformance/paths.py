"""Where the suite's own files are, in a clone (through the package's links to the card's folders) and installed."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SUITES_DIR = (PACKAGE_DIR / "suites").resolve()
CATALOG_DIR = SUITES_DIR / "catalog"
SHIPPED_TARGETS = (PACKAGE_DIR / "targets").resolve()
# The repository in a clone; the installed package directory otherwise.
PROJECT_ROOT = SUITES_DIR.parent
