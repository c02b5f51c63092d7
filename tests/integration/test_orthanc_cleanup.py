"""A run's instances removed through Orthanc's REST API (plugin/cleanup.py, orthanc_bulk_removal) on a real Orthanc,
directly and through the fault proxy: only the ledger's instances go, in a few requests whatever their count, an
Orthanc without /tools/bulk-delete still gets each one deleted, and one that answers 200 but deletes nothing is
caught by the search that follows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from dicomweb_conformance.config.target import TargetConfig, resolve_target
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.plugin.cleanup import orthanc_bulk_removal
from dicomweb_conformance.transport.ledger import LedgerEntry
from tests.faults.proxy import FaultProxy, Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import ProxyRule, answer
from tests.integration.suite_runner import orthanc_instances

OURS = 12


class Counted:
    """Forwards every request, counting them (FaultProxy.hits["counted"])."""

    name = "counted"

    def matches(self, request: ProxyRequest) -> bool:
        return True

    def handle(self, request: ProxyRequest, forward: Forward) -> ProxyResponse:
        return forward(request)


@pytest.fixture
def proxy(orthanc: OrthancServer) -> Iterator[FaultProxy]:
    with FaultProxy(orthanc.rest_url) as started:
        yield started


def store(orthanc: OrthancServer, instance: SampleInstance) -> str:
    response = requests.post(f"{orthanc.rest_url}/instances", data=instance.data, timeout=10)
    response.raise_for_status()
    return str(response.json()["ID"])


def entry(instance: SampleInstance) -> LedgerEntry:
    return LedgerEntry(instance.study_uid, instance.series_uid, instance.sop_instance_uid)


def target_through(proxy: FaultProxy) -> TargetConfig:
    return resolve_target({"url": f"{proxy.url}/dicom-web", "target": "orthanc"}, environ={})


def stored_run(orthanc: OrthancServer) -> tuple[list[LedgerEntry], str]:
    """This run's instances (two studies) and a bystander's; the ledger also names what never got stored."""
    first, second = synthetic_instance("run"), synthetic_instance("run")
    ours = [first, second] + [
        synthetic_instance("run", study_uid=study.study_uid, series_uid=study.series_uid)
        for study in (first, second)
        for _ in range(OURS // 2 - 1)
    ]
    for instance in ours:
        store(orthanc, instance)
    bystander = store(orthanc, synthetic_instance("bystander", patient_name="Someone^Else"))
    never_stored = LedgerEntry("2.25.1", "2.25.2", "2.25.3")
    refused_uid = LedgerEntry("2.25.1", "2.25.2", "11|")  # not a UID: Orthanc's lookup refuses it (400)
    return [*map(entry, ours), never_stored, refused_uid], bystander


def test_only_the_ledgers_instances_go_in_a_few_requests(orthanc: OrthancServer, proxy: FaultProxy) -> None:
    entries, bystander = stored_run(orthanc)
    proxy.switch([Counted()])
    failures = orthanc_bulk_removal(requests.Session(), target_through(proxy), concurrency=4)(entries)
    assert failures == []
    assert orthanc_instances(orthanc.rest_url) == [bystander]
    # One search, one bulk delete, one search to verify; a lookup for each of the two it did not find.
    assert proxy.hits["counted"] == 5
    assert proxy.errors == []


def test_an_orthanc_without_bulk_delete_gets_one_delete_each(orthanc: OrthancServer, proxy: FaultProxy) -> None:
    entries, bystander = stored_run(orthanc)
    proxy.switch([ProxyRule("no-bulk-delete", "Orthanc < 1.9.4", "POST", r"^/tools/bulk-delete$", answer(404))])
    failures = orthanc_bulk_removal(requests.Session(), target_through(proxy), concurrency=4)(entries)
    assert failures == []
    assert orthanc_instances(orthanc.rest_url) == [bystander]
    assert proxy.hits["no-bulk-delete"] == 1


def test_a_bulk_delete_that_deletes_nothing_is_caught(orthanc: OrthancServer, proxy: FaultProxy) -> None:
    entries, _ = stored_run(orthanc)
    proxy.switch([ProxyRule("bulk-delete-ignored", "deleting", "POST", r"^/tools/bulk-delete$", answer(200))])
    failures = orthanc_bulk_removal(requests.Session(), target_through(proxy), concurrency=4)(entries)
    assert [failed for failed, _ in failures] == entries[:OURS]
    assert {why for _, why in failures} == {"Orthanc still holds it after /tools/bulk-delete"}
    assert len(orthanc_instances(orthanc.rest_url)) == OURS + 1
