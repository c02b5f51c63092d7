"""The Azure checks' helpers: the run's API version, requests with other credentials than the run's, and the
instances a destructive check stores for itself (their fixtures: fixtures/azure_fixtures.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests
from requests.auth import AuthBase

from dicomweb_conformance.config.catalog import LATEST_API_VERSION
from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb

EXPIRED_TOKEN_ENV = "DICOMWEB_EXPIRED_TOKEN"
# A token no server issued: the same length and alphabet as a short JWT, so it is refused for what it is.
FOREIGN_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWNvbXdlYi1jb25mb3JtYW5jZSJ9.bm90LWEtcmVhbC1zaWduYXR1cmU"


# --- API versions ----------------------------------------------------------------------------------


def run_api_version(target: TargetConfig) -> str:
    return target.api_version or LATEST_API_VERSION


# --- tokens ----------------------------------------------------------------------------------------


def request_with_auth(
    client: DicomwebClient, method: str, path: str, auth: AuthBase | None, **kwargs: Any
) -> requests.Response:
    """Send with other credentials than the run's (or none); the exchange is recorded with the run's."""
    other = DicomwebClient(client.target, auth, session=client.session, health=client.health)
    try:
        return other.request(method, path, authenticate=auth is not None, **kwargs)
    finally:
        client.exchanges.extend(other.take_exchanges())


# --- this run's victims ----------------------------------------------------------------------------


def new_study(run_id: str, series_sizes: Sequence[int], *, name: str) -> list[list[SampleInstance]]:
    """A fresh study of this run: one list of fresh instances per series, `series_sizes` long."""
    study = new_uid()
    shape = []
    for series_index, size in enumerate(series_sizes):
        series = new_uid()
        shape.append(
            [
                synthetic_instance(run_id, study_uid=study, series_uid=series, name=f"{name}-s{series_index}-i{k}")
                for k in range(size)
            ]
        )
    return shape


def store_victims(dicomweb: Dicomweb, instances: Sequence[SampleInstance]) -> None:
    """Store instances a check will delete or change, and wait until they are searchable; BLOCKED otherwise."""
    dicomweb.store_and_wait(list(instances), what="the check's own instances")
