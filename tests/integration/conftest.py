from __future__ import annotations

from collections.abc import Iterator

import pytest

from dicomweb_conformance.launchers.orthanc_server import OrthancServer


@pytest.fixture
def orthanc() -> Iterator[OrthancServer]:
    """A fresh, empty Orthanc for one test."""
    with OrthancServer() as server:
        yield server
