"""Every delete scenario of Microsoft's end-to-end tests (reference 2.10), each on this run's own study.

After each delete, WADO, metadata and QIDO must agree: what was deleted is gone at every level that
it emptied, and everything else is still there, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dicomweb_conformance.checks.azure import new_study, store_victims
from dicomweb_conformance.checks.common import expect_status
from dicomweb_conformance.checks.store import check_metadata_lists
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.suites.delete.deletion import (
    check_instance_gone,
    check_series_gone,
    check_still_there,
    check_study_gone,
    delete,
    study_path,
)
from dicomweb_conformance.transport.store import DICOM_JSON, Dicomweb, instance_path, series_path

Study = list[list[SampleInstance]]
# E2E GivenABad*Uid: "notAStudyInstanceUid"-style names; UidValidation.cs: digits and dots, at most 64.
NOT_A_UID = "notAnInstanceUid"
TOO_LONG_UID = "1." + "2" * 63


def flat(study: Study) -> list[SampleInstance]:
    return [instance for series in study for instance in series]


@pytest.fixture
def lone_instance(dicomweb: Dicomweb, run_id: str) -> SampleInstance:
    """A study of one series of one instance: deleting any level empties all three."""
    study = new_study(run_id, [1], name="delete-lone")
    store_victims(dicomweb, flat(study))
    return study[0][0]


@pytest.fixture
def two_series(dicomweb: Dicomweb, run_id: str) -> Study:
    """A study with a series of two instances and a series of one."""
    study = new_study(run_id, [2, 1], name="delete-two-series")
    store_victims(dicomweb, flat(study))
    return study


# --- what "gone" and "still there" mean ------------------------------------------------------------


def check_lists_exactly(dicomweb: Dicomweb, path: str, instances: Sequence[SampleInstance], what: str) -> None:
    check_metadata_lists(dicomweb.client.get(path + "/metadata", accept=DICOM_JSON), instances, what)


# --- deleting an instance --------------------------------------------------------------------------


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-100")
def test_deleting_the_only_instance_removes_all_levels(dicomweb: Dicomweb, lone_instance: SampleInstance) -> None:
    """Deleting a study's only instance answers 204; the instance, its series and its study are all gone."""
    delete(dicomweb, instance_path(lone_instance), "delete the only instance")
    check_instance_gone(dicomweb, lone_instance, "after the delete")
    check_series_gone(dicomweb, lone_instance, "after the delete")
    check_study_gone(dicomweb, lone_instance, "after the delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-101")
@pytest.mark.parametrize("level", ["instance", "series", "study"])
def test_deleting_an_emptied_resource_again_is_not_found(
    dicomweb: Dicomweb, lone_instance: SampleInstance, level: str
) -> None:
    """Deleting the only instance, series or study of a study a second time answers 404."""
    path = {"instance": instance_path, "series": series_path, "study": study_path}[level](lone_instance)
    delete(dicomweb, path, f"first delete of the {level}")
    expect_status(dicomweb.client.delete(path), 404, f"second delete of the {level}")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-102")
def test_deleting_an_instance_leaves_the_other_series(dicomweb: Dicomweb, two_series: Study) -> None:
    """Deleting the instance of a one-instance series leaves the study's other series' instances retrievable."""
    (first_a, second_a), (lone_b,) = two_series
    delete(dicomweb, instance_path(lone_b), "delete the other series' instance")
    check_instance_gone(dicomweb, lone_b, "after the delete")
    check_still_there(dicomweb, [first_a, second_a], "the other series after the delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-103")
def test_deleting_the_last_instance_of_a_series_removes_only_that_series(dicomweb: Dicomweb, two_series: Study) -> None:
    """Deleting the last instance of a series removes the series; the study and its other series remain."""
    (first_a, second_a), (lone_b,) = two_series
    delete(dicomweb, instance_path(lone_b), "delete the last instance of a series")
    check_series_gone(dicomweb, lone_b, "after the delete")
    check_lists_exactly(dicomweb, series_path(first_a), [first_a, second_a], "the other series after the delete")
    check_lists_exactly(dicomweb, study_path(first_a), [first_a, second_a], "the study after the delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-104")
def test_deleting_one_of_several_instances_keeps_the_counts(dicomweb: Dicomweb, two_series: Study) -> None:
    """Deleting one of a series' two instances: the series lists the other one, the study the remaining two."""
    (first_a, second_a), (lone_b,) = two_series
    delete(dicomweb, instance_path(first_a), "delete one instance of two")
    check_instance_gone(dicomweb, first_a, "after the delete")
    check_lists_exactly(dicomweb, series_path(second_a), [second_a], "its series after the delete")
    check_lists_exactly(dicomweb, study_path(second_a), [second_a, lone_b], "its study after the delete")
    check_still_there(dicomweb, [second_a, lone_b], "the study's other instances after the delete")


# --- deleting a series -----------------------------------------------------------------------------


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-105")
def test_deleting_the_only_series_removes_all_levels(dicomweb: Dicomweb, lone_instance: SampleInstance) -> None:
    """Deleting a study's only series answers 204; the series, its instance and the study are all gone."""
    delete(dicomweb, series_path(lone_instance), "delete the only series")
    check_series_gone(dicomweb, lone_instance, "after the delete")
    check_instance_gone(dicomweb, lone_instance, "after the delete")
    check_study_gone(dicomweb, lone_instance, "after the delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-106")
def test_deleting_a_series_removes_every_instance_of_it(dicomweb: Dicomweb, two_series: Study) -> None:
    """Deleting a series of two instances removes both of them."""
    series_a, _ = two_series
    delete(dicomweb, series_path(series_a[0]), "delete a series of two instances")
    for instance in series_a:
        check_instance_gone(dicomweb, instance, "after the series delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-107")
def test_deleting_a_series_leaves_the_other_series(dicomweb: Dicomweb, two_series: Study) -> None:
    """Deleting one series of a study leaves the study and its other series, byte for byte."""
    series_a, (lone_b,) = two_series
    delete(dicomweb, series_path(series_a[0]), "delete one series")
    check_series_gone(dicomweb, series_a[0], "after the delete")
    check_lists_exactly(dicomweb, study_path(lone_b), [lone_b], "the study after the delete")
    check_still_there(dicomweb, [lone_b], "the other series after the delete")


# --- deleting a study ------------------------------------------------------------------------------


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-108")
def test_deleting_a_study_removes_all_levels(dicomweb: Dicomweb, lone_instance: SampleInstance) -> None:
    """Deleting a study answers 204; the study, its series and its instance are all gone."""
    delete(dicomweb, study_path(lone_instance), "delete the study")
    check_study_gone(dicomweb, lone_instance, "after the delete")
    check_series_gone(dicomweb, lone_instance, "after the delete")
    check_instance_gone(dicomweb, lone_instance, "after the delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-109")
def test_deleting_a_study_removes_every_series_and_instance(dicomweb: Dicomweb, run_id: str) -> None:
    """Deleting a study of two series with two instances each removes every series and instance."""
    study = new_study(run_id, [2, 2], name="delete-whole-study")
    store_victims(dicomweb, flat(study))
    delete(dicomweb, study_path(study[0][0]), "delete a study with several items at each level")
    check_study_gone(dicomweb, study[0][0], "after the delete")
    for series in study:
        check_series_gone(dicomweb, series[0], "after the study delete")
        for instance in series:
            check_instance_gone(dicomweb, instance, "after the study delete")


# --- what may not be deleted -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bystander(dicomweb: Dicomweb, run_id: str) -> Study:
    """A study of two one-instance series that no delete of this module may touch."""
    study = new_study(run_id, [1, 1], name="delete-bystander")
    store_victims(dicomweb, flat(study))
    return study


def _malformed_path(case: str, study: Study) -> str:
    instance = study[0][0]
    return {
        "study-not-a-uid": f"studies/{NOT_A_UID}",
        "study-too-long": f"studies/{TOO_LONG_UID}",
        "series-not-a-uid": f"studies/{instance.study_uid}/series/{NOT_A_UID}",
        "series-of-instance-not-a-uid": (
            f"studies/{instance.study_uid}/series/{NOT_A_UID}/instances/{instance.sop_instance_uid}"
        ),
        "sop-not-a-uid": f"{series_path(instance)}/instances/{NOT_A_UID}",
        "sop-too-long": f"{series_path(instance)}/instances/{TOO_LONG_UID}",
    }[case]


@pytest.mark.req("AZ-DEL-110")
@pytest.mark.parametrize(
    "case",
    [
        "study-not-a-uid",
        "study-too-long",
        "series-not-a-uid",
        "series-of-instance-not-a-uid",
        "sop-not-a-uid",
        "sop-too-long",
    ],
)
def test_a_malformed_uid_is_a_bad_request_that_deletes_nothing(dicomweb: Dicomweb, bystander: Study, case: str) -> None:
    """A delete whose path holds a malformed study, series or SOP instance UID answers 400 and deletes nothing."""
    expect_status(
        dicomweb.client.delete(_malformed_path(case, bystander)), 400, f"delete with a malformed UID ({case})"
    )
    check_still_there(dicomweb, flat(bystander), "the study named beside the malformed UID")


@pytest.mark.req("AZ-DEL-111")
@pytest.mark.parametrize("case", ["instance-under-its-sibling-series", "series-under-another-study"])
def test_a_resource_under_the_wrong_parent_is_not_found(
    dicomweb: Dicomweb, bystander: Study, run_id: str, case: str
) -> None:
    """Deleting an instance through a series it is not in, or a series through a study it is not in, answers 404."""
    (in_a,), (in_b,) = bystander
    if case == "instance-under-its-sibling-series":
        path = f"{series_path(in_b)}/instances/{in_a.sop_instance_uid}"
    else:
        other = new_study(run_id, [1], name="delete-other-study")[0][0]
        store_victims(dicomweb, [other])
        path = f"studies/{other.study_uid}/series/{in_a.series_uid}"
    expect_status(dicomweb.client.delete(path), 404, f"delete under the wrong parent ({case})")
    check_still_there(dicomweb, flat(bystander), "the instance named under the wrong parent")
