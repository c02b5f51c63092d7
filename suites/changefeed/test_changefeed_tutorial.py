"""The tutorial's change-feed call (Azure extension), and this run's instances in the feed."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.changefeed import current_position, read_feed
from dicomweb_conformance.checks.common import expect_media_type, expect_status, fail, json_body
from dicomweb_conformance.checks.store import check_successful_store
from dicomweb_conformance.fixtures.resources import TutorialSet
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb


@pytest.mark.req("AZ-CF-001")
def test_changefeed_answers_a_json_array(client: DicomwebClient) -> None:
    """GET /changefeed answers 200 application/json with an array of entry objects."""
    response = client.get("changefeed")
    expect_status(response, 200, "change feed")
    expect_media_type(response, "application/json", "change feed")
    body = json_body(response, "change feed")
    if not isinstance(body, list) or not all(isinstance(entry, dict) for entry in body):
        raise fail(
            "the change feed is not an array of objects", expected="[{...}]", actual=str(body)[:200], response=response
        )


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-002")
def test_stored_instances_appear_as_create_entries(dicomweb: Dicomweb, fresh_tutorial_set: TutorialSet) -> None:
    """After storing the tutorial set, each of its SOP instances has a create entry with its study and series UIDs."""
    client = dicomweb.client
    position = current_position(client)
    instances = list(fresh_tutorial_set.values())
    check_successful_store(dicomweb.store(instances), instances, "store of the tutorial set")
    creates = {
        entry.get("sopinstanceuid"): entry for entry in read_feed(client, position) if entry.get("action") == "create"
    }
    for instance in instances:
        entry = creates.get(instance.sop_instance_uid)
        if entry is None:
            raise fail(
                f"no create entry for {instance.name}",
                expected=instance.sop_instance_uid,
                actual=sorted(map(str, creates))[:10],
            )
        found = (entry.get("studyinstanceuid"), entry.get("seriesinstanceuid"))
        if found != (instance.study_uid, instance.series_uid):
            raise fail(
                f"create entry of {instance.name} names other parents",
                expected=(instance.study_uid, instance.series_uid),
                actual=found,
            )
