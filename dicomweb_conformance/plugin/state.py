"""What one conformance run holds: target, client, ledger, the server it started."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import pytest

from dicomweb_conformance.config.catalog import Requirement
from dicomweb_conformance.config.server_info import UNKNOWN, ServerInfo
from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.ledger import Ledger
from dicomweb_conformance.transport.pool import DEFAULT_CONCURRENCY
from dicomweb_conformance.transport.store import Dicomweb


def new_run_id() -> str:
    """Short enough for AccessionNumber (SH, 16 chars), unique enough for parallel runs."""
    return time.strftime("%m%d%H%M") + secrets.token_hex(3)


@dataclass
class RunState:
    target: TargetConfig
    run_id: str
    client: DicomwebClient
    ledger: Ledger
    catalog: dict[str, Requirement]
    concurrency: int = DEFAULT_CONCURRENCY  # --dicomweb-concurrency: independent requests in flight at once
    keep_tutorial_uids: bool = False
    strict_should: bool = False
    strict_deviations: bool = False
    server: ServerInfo = UNKNOWN
    started_server: OrthancServer | None = None

    @property
    def dicomweb(self) -> Dicomweb:
        return Dicomweb(self.client, self.ledger, self.concurrency)


RUN_STATE = pytest.StashKey[RunState]()
