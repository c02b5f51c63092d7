"""DICOMweb operations the checks share: store with the ledger, find, wait until visible."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial

import requests
from urllib3.filepost import encode_multipart_formdata

from dicomweb_conformance.checks.common import BlockedBy, ConformanceFailure, data_loss, fail, poll
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.ledger import Ledger, LedgerEntry
from dicomweb_conformance.transport.multipart import choose_boundary, encode_related
from dicomweb_conformance.transport.pool import DEFAULT_CONCURRENCY, run_all

DICOM_JSON = "application/dicom+json"
MULTIPART_DICOM_ANY_TS = 'multipart/related; type="application/dicom"; transfer-syntax=*'


class Dicomweb:
    """The run's view of the target: every store goes through the ledger first."""

    def __init__(self, client: DicomwebClient, ledger: Ledger, concurrency: int = DEFAULT_CONCURRENCY):
        self.client = client
        self.ledger = ledger
        self.target = client.target
        self.concurrency = concurrency  # --dicomweb-concurrency: independent searches at once

    def record(self, instances: Iterable[SampleInstance]) -> None:
        """Into the ledger before anything is sent: the instances a server might keep. The one place the ledger is
        written: every store here, and every body a check sends itself (checks/stow.py send), records through it."""
        self.ledger.record(LedgerEntry(i.study_uid, i.series_uid, i.sop_instance_uid) for i in instances)

    def forget(self, sop_instance_uids: Iterable[str]) -> None:
        """Out of the ledger: instances the server refused and holds none of, whose UIDs no DELETE path can name."""
        self.ledger.forget(list(sop_instance_uids))

    def store(
        self, instances: Sequence[SampleInstance], *, study: str | None = None, accept: str | None = DICOM_JSON
    ) -> requests.Response:
        """PS3.18 10.5: multipart/related; type="application/dicom" with one part per instance."""
        self.record(instances)
        body, content_type = encode_related([i.data for i in instances])
        return self.client.post(_studies_path(study), body, content_type=content_type, accept=accept)

    def store_tutorial_shape(
        self, instances: Sequence[SampleInstance], *, study: str | None = None
    ) -> requests.Response:
        """The tutorial's request: urllib3 form-data encoding under 'multipart/related; boundary=...' (no type)."""
        self.record(instances)
        fields = {f"file{index}": ("dicomfile", i.data, "application/dicom") for index, i in enumerate(instances)}
        boundary = choose_boundary()
        body, _ = encode_multipart_formdata(fields, boundary)
        return self.client.post(_studies_path(study), body, content_type=f"multipart/related; boundary={boundary}")

    def store_single_part(self, instance: SampleInstance, *, study: str | None = None) -> requests.Response:
        """The Azure non-standard single-part body: Content-Type application/dicom."""
        self.record([instance])
        return self.client.post(_studies_path(study), instance.data, content_type="application/dicom")

    def search_instance(self, instance: SampleInstance) -> requests.Response:
        """QIDO for one instance by its SOP Instance UID (PS3.18 10.6.1 SearchForInstances)."""
        params = {"SOPInstanceUID": instance.sop_instance_uid}
        response = self.client.get("instances", accept=DICOM_JSON, params=params)
        if response.status_code in (404, 405):
            # No all-instances search on this server: the series' instance search is served more widely.
            response = self.client.get(series_path(instance) + "/instances", accept=DICOM_JSON, params=params)
        return response

    def find_instance(self, instance: SampleInstance) -> bool:
        response = self.search_instance(instance)
        # The bytes, not .text (DICOM JSON is UTF-8): .text of a body without a charset guesses its encoding first
        # (0.2 s of CPU per run, in the searches that wait for stores to show).
        return response.status_code == 200 and instance.sop_instance_uid.encode() in response.content

    def wait_visible(self, instances: Sequence[SampleInstance]) -> list[SampleInstance]:
        """Poll QIDO until every instance is found; returns those still missing. After one wait of the run ran
        out (transport/health.py, visibility_lost), ask once. The searches of one round go out at once."""
        missing = list(instances)
        health = self.client.health

        def probe() -> bool:
            found = run_all([partial(self.find_instance, i) for i in missing], self.concurrency)
            missing[:] = [i for i, was_found in zip(missing, found, strict=True) if not was_found]
            return not missing

        timeout = 0.0 if health.visibility_lost else self.target.visibility_timeout
        poll(probe, timeout=timeout, interval=self.target.poll_interval)
        if missing:
            health.visibility_lost = True
        return missing

    def store_and_wait(self, instances: Sequence[SampleInstance], *, what: str) -> requests.Response:
        """Store data a check depends on and wait until QIDO finds all of it.

        When the server breaks this step, the step's own requirement fails and the checks that needed the data are
        BLOCKED (never a green skip): a refused store is DW-STOW-001; stored but never found by QIDO is DW-QIDO-004
        (or -006 on the series route); and not retrievable either, silent data loss of DW-STOW-003.
        """
        response = self.store_accepted(instances, what=what)
        self.wait_found(instances, what=what)
        return response

    def store_accepted(self, instances: Sequence[SampleInstance], *, what: str) -> requests.Response:
        """Store data a check depends on: 200, or Azure v2's 202 with warnings once every instance is listed and
        retrievable (checks/azure_store.py). A refusal is a FAIL of DW-STOW-001, a 202 that lost an instance a FAIL
        (or data loss) of its own; either blocks the dependent checks."""
        from dicomweb_conformance.checks.azure_store import (
            store_accepted,
        )  # store_checks, which it uses, imports this module

        response = self.store(instances)
        try:
            accepted = store_accepted(self, instances, response)
        except ConformanceFailure as failure:
            raise BlockedBy(f"storing {what}", failure) from None
        if not accepted:
            raise BlockedBy(
                f"storing {what}",
                fail(
                    f"storing {what} ({len(instances)} valid instances) was refused",
                    expected="200 (Azure v2: or 202 with warnings only)",
                    actual=f"{response.status_code} {response.text[:200]!r}",
                    response=response,
                    requirement="DW-STOW-001",
                ),
            )
        return response

    def wait_found(self, instances: Sequence[SampleInstance], *, what: str) -> None:
        """Wait until QIDO finds every stored instance; BlockedBy the QIDO (or data loss) failure otherwise."""
        missing = self.wait_visible(instances)
        if missing:
            raise BlockedBy(f"finding {what} by QIDO", self._not_found(missing[0], len(missing), what))

    def _not_found(self, instance: SampleInstance, count: int, what: str) -> ConformanceFailure:
        with self.client.streamed(instance_path(instance), accept=MULTIPART_DICOM_ANY_TS) as retrieved:
            if retrieved.status_code == 404:
                return data_loss(
                    f"{what}: the store answered success, but {instance.name} is neither found by QIDO nor retrievable",
                    expected="the stored instance retrievable (PS3.18 10.5.1)",
                    actual="404 Not Found",
                    response=retrieved,
                    requirement="DW-STOW-003",
                )
        search = self.search_instance(instance)
        series_route = "/series/" in search.url
        return fail(
            f"{what}: {count} stored instance(s), first {instance.name}, never found by a SOPInstanceUID search "
            f"within {self.target.visibility_timeout} s (after the first wait that ran out, a wait asks once)",
            expected=f"the instance {instance.sop_instance_uid} in the answer",
            actual=f"{search.status_code} {search.text[:200]!r}",
            response=search,
            requirement="DW-QIDO-006" if series_route else "DW-QIDO-004",
        )

    def wait_gone(self, path: str) -> int:
        """Poll a WADO metadata path until it stops answering 200; returns the last status."""
        status = [200]

        def probe() -> bool:
            status[0] = self.client.get(path, accept=DICOM_JSON).status_code
            return status[0] != 200

        poll(probe, timeout=self.target.visibility_timeout, interval=self.target.poll_interval)
        return status[0]


def _studies_path(study: str | None) -> str:
    return f"studies/{study}" if study else "studies"


def instance_path(instance: SampleInstance) -> str:
    return f"studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_instance_uid}"


def series_path(instance: SampleInstance) -> str:
    return f"studies/{instance.study_uid}/series/{instance.series_uid}"
