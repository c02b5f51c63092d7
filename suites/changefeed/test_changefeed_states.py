"""Change-feed entry states, /changefeed/latest and includeMetadata (reference 1.5, 2.11).

Each check stores (and deletes) its own instances and judges only their entries. Checks on
`latest` need their own change to be the newest one: when another writer's change came after it,
the check is UNTESTABLE rather than failed.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from dicomweb_conformance.checks.azure import new_study, store_victims
from dicomweb_conformance.checks.changefeed import (
    FeedBurst,
    FeedPosition,
    change_of,
    check_changes_listed,
    current_position,
    entry_again,
    get_latest,
    has_metadata,
    sequence_of,
    timestamp_of,
    uses_time_windows,
    wait_for_changes,
)
from dicomweb_conformance.checks.common import fail, untestable
from dicomweb_conformance.checks.store import check_successful_store
from dicomweb_conformance.dicom.annex_f import differences, non_bulk_keys, stored_json
from dicomweb_conformance.dicom.dicomjson import BULK_VRS
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.suites.delete.deletion import delete
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb, instance_path, series_path

Entry = dict[str, Any]


def stored_instance(dicomweb: Dicomweb, run_id: str, name: str) -> tuple[SampleInstance, FeedPosition]:
    """A fresh instance of this run, stored and searchable, and the feed position from before its store."""
    position = current_position(dicomweb.client)
    instance = synthetic_instance(run_id, name=name)
    store_victims(dicomweb, [instance])
    return instance, position


def entries_for(client: DicomwebClient, position: FeedPosition, instance: SampleInstance, *actions: str) -> list[Entry]:
    """The instance's entries from `position` on, once each expected action is listed (in feed order)."""
    changes = [(instance.sop_instance_uid, action) for action in actions]
    found = wait_for_changes(client, position, changes)
    if sorted(change_of(entry) for entry in found) != sorted(changes):
        raise fail(
            f"the change feed does not list exactly {list(actions)} for {instance.name}",
            expected=changes,
            actual=[change_of(entry) for entry in found],
        )
    return found


def check_entry(entry: Entry, instance: SampleInstance, action: str, state: str, what: str) -> None:
    """Action, state and the three UIDs of one entry (values compared case-insensitively, reference 1.12 item 5)."""
    found = (entry.get("studyinstanceuid"), entry.get("seriesinstanceuid"), entry.get("action"), entry.get("state"))
    wanted = (instance.study_uid, instance.series_uid, action, state)
    if found != wanted:
        raise fail(f"{what}: wrong entry", expected=wanted, actual=found)


def check_no_metadata(entry: Entry, what: str) -> None:
    if has_metadata(entry):
        raise fail(f"{what}: the entry carries metadata", expected="no metadata", actual=str(entry["metadata"])[:200])


def own_change_last(dicomweb: Dicomweb) -> AbstractContextManager[None]:
    """Under xdist, the run's other workers store and delete nothing from this check's own change to its read of
    latest (transport/server_changes.py); any other writer still makes the check UNTESTABLE."""
    return dicomweb.client.changes.still()


def check_latest_is(client: DicomwebClient, entry: Entry, what: str, **params: str) -> Entry:
    """/changefeed/latest answers `entry`, the check's own newest change."""
    response, latest = get_latest(client, what, **params)
    if latest.get("sequence") == entry.get("sequence"):
        return latest
    # v1's latest is the highest sequence number, v2's the latest timestamp (reference 1.5).
    later = (
        timestamp_of(latest, response) > timestamp_of(entry)
        if uses_time_windows(client)
        else sequence_of(latest, response) > sequence_of(entry)
    )
    if later:
        untestable(f"another writer changed the feed after this check's own change ({what})")
    raise fail(
        f"{what}: not the newest entry",
        expected=(entry.get("sequence"), change_of(entry)),
        actual=(latest.get("sequence"), change_of(latest)),
        response=response,
    )


# --- states ----------------------------------------------------------------------------------------


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-130")
def test_a_stored_instance_has_a_current_create_entry(dicomweb: Dicomweb, run_id: str) -> None:
    """A stored instance's create entry names its study and series and has state current."""
    instance, position = stored_instance(dicomweb, run_id, "feed-current")
    (entry,) = entries_for(dicomweb.client, position, instance, "create")
    check_entry(entry, instance, "create", "current", "the create entry of a stored instance")


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-131")
def test_create_delete_recreate_gives_replaced_replaced_current(dicomweb: Dicomweb, run_id: str) -> None:
    """Store, delete, store again: entries create, delete, create with states replaced, replaced, current."""
    instance, position = stored_instance(dicomweb, run_id, "feed-recreate")
    delete(dicomweb, instance_path(instance), "delete the instance")
    check_successful_store(dicomweb.store([instance]), [instance], "store the instance again")
    entries = entries_for(dicomweb.client, position, instance, "create", "delete", "create")
    found = [(entry.get("action"), entry.get("state")) for entry in entries]
    wanted = [("create", "replaced"), ("delete", "replaced"), ("create", "current")]
    if found != wanted:
        raise fail("create -> delete -> re-create: wrong actions or states", expected=wanted, actual=found)


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-132")
def test_a_delete_entry_is_deleted_and_has_no_metadata(dicomweb: Dicomweb, run_id: str) -> None:
    """A deleted instance's delete entry has state deleted and no metadata, even with includeMetadata=true."""
    instance, position = stored_instance(dicomweb, run_id, "feed-deleted")
    delete(dicomweb, instance_path(instance), "delete the instance")
    _, deletion = entries_for(dicomweb.client, position, instance, "create", "delete")
    check_entry(deletion, instance, "delete", "deleted", "the delete entry")
    again = entry_again(dicomweb.client, deletion, "the delete entry with metadata", includeMetadata="true")
    check_no_metadata(again, "the delete entry read with includeMetadata=true")


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-133")
def test_a_series_delete_records_a_delete_for_each_of_its_instances(dicomweb: Dicomweb, run_id: str) -> None:
    """Deleting a series records one delete entry for each of its instances and none for the study's other series."""
    study = new_study(run_id, [2, 1], name="feed-series-delete")
    removed, (kept,) = study
    store_victims(dicomweb, [*removed, kept])
    position = current_position(dicomweb.client)
    delete(dicomweb, series_path(removed[0]), "delete a series of two")
    deletes = {(i.sop_instance_uid, "delete") for i in removed}
    # v2 positions start minutes back (clock skew), so the creates may be listed too: judge the deletes.
    listed = wait_for_changes(dicomweb.client, position, deletes, also=[kept.sop_instance_uid])
    entries = [entry for entry in listed if entry.get("action") == "delete"]
    check_changes_listed(entries, deletes, "the series delete")
    others = [entry for entry in entries if change_of(entry) not in deletes]
    if others:
        raise fail("a series delete recorded deletes outside the series", expected=sorted(deletes), actual=others)
    for entry in entries:
        if entry.get("state") != "deleted":
            raise fail("a delete entry of the series is not in state deleted", expected="deleted", actual=entry)


@pytest.mark.req("AZ-CF-134")
def test_a_study_delete_records_a_delete_for_each_instance(feed_burst: FeedBurst) -> None:
    """Deleting a study records one delete entry, state deleted, for every instance it held."""
    if not feed_burst.deleted:
        untestable("the target cannot delete the change-feed burst")
    deletes = [entry for entry in feed_burst.checked_entries() if entry.get("action") == "delete"]
    wrong = [
        entry
        for entry in deletes
        if (entry.get("studyinstanceuid"), entry.get("state")) != (feed_burst.study_uid, "deleted")
    ]
    if wrong:
        raise fail("delete entries of a study delete", expected="the study's UID, state deleted", actual=wrong[:2])


# --- latest ----------------------------------------------------------------------------------------


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-135")
def test_latest_is_the_create_just_recorded(dicomweb: Dicomweb, run_id: str) -> None:
    """Right after a store, /changefeed/latest is that instance's create entry, state current."""
    with own_change_last(dicomweb):
        instance, position = stored_instance(dicomweb, run_id, "feed-latest-create")
        (entry,) = entries_for(dicomweb.client, position, instance, "create")
        latest = check_latest_is(dicomweb.client, entry, "latest after a store", includeMetadata="false")
    check_entry(latest, instance, "create", "current", "latest after a store")


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-136")
def test_latest_after_a_delete_is_that_delete_without_metadata(dicomweb: Dicomweb, run_id: str) -> None:
    """Right after a delete, /changefeed/latest is that delete, state deleted, with no metadata."""
    with own_change_last(dicomweb):
        instance, position = stored_instance(dicomweb, run_id, "feed-latest-delete")
        delete(dicomweb, instance_path(instance), "delete the instance")
        _, deletion = entries_for(dicomweb.client, position, instance, "create", "delete")
        latest = check_latest_is(dicomweb.client, deletion, "latest after a delete")
    check_entry(latest, instance, "delete", "deleted", "latest after a delete")
    check_no_metadata(latest, "latest after a delete")


# --- includeMetadata -------------------------------------------------------------------------------


def check_metadata_is_the_instances(entry: Entry, instance: SampleInstance, what: str) -> None:
    """The entry's metadata is the DICOM JSON of the dataset this run stored (not what the server's own metadata
    resource answers, which could be wrong the same way): every stored attribute with its stored value, and no
    attribute that was not stored. Only what Annex F lets differ is ignored (dicom/annex_f.py
    canonical forms); bulk VRs (OB, OW, UN, ...) are left out of the comparison because Azure omits them from
    metadata (reference 1.2)."""
    found = entry.get("metadata")
    if not isinstance(found, dict):
        raise fail(f"{what}: no metadata", expected="the stored instance's DICOM JSON", actual=repr(found)[:200])
    stored = stored_json(instance)
    extra = {
        key
        for key, element in found.items()
        if not (isinstance(element, dict) and element.get("vr") in BULK_VRS) and not key.startswith("0002")
    }
    keys = sorted(set(non_bulk_keys(stored)) | extra)
    problems = differences(found, stored, keys)
    if problems:
        raise fail(
            f"{what}: the metadata is not the stored instance's DICOM JSON",
            expected="every stored attribute with its stored value, nothing else",
            actual=problems[:8],
        )


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-140")
@pytest.mark.parametrize("source", ["feed-by-default", "feed-include-true", "latest-by-default"])
def test_entries_carry_the_instances_metadata(dicomweb: Dicomweb, run_id: str, source: str) -> None:
    """With includeMetadata=true, and by default, a create entry carries the instance's DICOM JSON metadata."""
    with own_change_last(dicomweb) if source == "latest-by-default" else nullcontext():
        instance, position = stored_instance(dicomweb, run_id, f"feed-metadata-{source}")
        (entry,) = entries_for(dicomweb.client, position, instance, "create")
        if source == "latest-by-default":
            shown = check_latest_is(dicomweb.client, entry, "latest")
        elif source == "feed-include-true":
            shown = entry_again(dicomweb.client, entry, "the create entry", includeMetadata="true")
        else:
            shown = entry_again(dicomweb.client, entry, "the create entry")
    check_metadata_is_the_instances(shown, instance, f"the create entry ({source})")


@pytest.mark.destructive
@pytest.mark.req("AZ-CF-141")
@pytest.mark.parametrize("source", ["feed", "latest"])
def test_include_metadata_false_leaves_metadata_out(dicomweb: Dicomweb, run_id: str, source: str) -> None:
    """With includeMetadata=false neither the feed nor latest carries metadata."""
    with own_change_last(dicomweb) if source == "latest" else nullcontext():
        instance, position = stored_instance(dicomweb, run_id, f"feed-no-metadata-{source}")
        (entry,) = entries_for(dicomweb.client, position, instance, "create")
        if source == "latest":
            shown = check_latest_is(dicomweb.client, entry, "latest", includeMetadata="false")
        else:
            shown = entry_again(dicomweb.client, entry, "the create entry", includeMetadata="false")
    check_no_metadata(shown, f"the create entry with includeMetadata=false ({source})")
