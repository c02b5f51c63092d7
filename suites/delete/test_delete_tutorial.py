"""The tutorial's deletes (Azure extension): instance, then series, then study; gone afterwards."""

from __future__ import annotations

import pytest

from fixtures.checks import expect_status, fail
from fixtures.operations import DICOM_JSON, Dicomweb, instance_path, series_path
from fixtures.resources import TutorialSet
from fixtures.samples import SampleInstance


def delete(dicomweb: Dicomweb, path: str, removed: list[SampleInstance], what: str) -> None:
    response = dicomweb.client.delete(path)
    expect_status(response, 204, what)
    if response.content:
        raise fail(
            f"{what}: 204 must have no body", expected="empty body", actual=response.content[:100], response=response
        )
    dicomweb.ledger.forget(i.sop_instance_uid for i in removed)


def expect_gone(dicomweb: Dicomweb, path: str, what: str) -> None:
    response = dicomweb.client.get(path + "/metadata", accept=DICOM_JSON)
    expect_status(response, 404, what)


def expect_present(dicomweb: Dicomweb, path: str, what: str) -> None:
    response = dicomweb.client.get(path + "/metadata", accept=DICOM_JSON)
    expect_status(response, 200, what)


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-001")
def test_delete_instance(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet) -> None:
    """DELETE red-triangle answers 204; red-triangle then answers 404 while green-square remains."""
    red, green = stored_tutorial_set["red-triangle"], stored_tutorial_set["green-square"]
    delete(dicomweb, instance_path(red), [red], "delete red-triangle")
    expect_gone(dicomweb, instance_path(red), "red-triangle metadata after its delete")
    expect_present(dicomweb, instance_path(green), "green-square metadata after red-triangle's delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-002")
def test_delete_series(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet) -> None:
    """DELETE the red/green series answers 204; the series then answers 404 while blue-circle's series remains."""
    red, green, blue = (stored_tutorial_set[n] for n in ("red-triangle", "green-square", "blue-circle"))
    delete(dicomweb, series_path(red), [red, green], "delete the red/green series")
    expect_gone(dicomweb, series_path(red), "series metadata after its delete")
    expect_present(dicomweb, series_path(blue), "blue-circle's series after the other series' delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-003")
def test_delete_study(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet) -> None:
    """DELETE the tutorial study answers 204; the study then answers 404."""
    instances = list(stored_tutorial_set.values())
    delete(dicomweb, f"studies/{instances[0].study_uid}", instances, "delete the study")
    expect_gone(dicomweb, f"studies/{instances[0].study_uid}", "study metadata after its delete")


def _resource_paths(instances: TutorialSet) -> dict[str, tuple[str, list[SampleInstance]]]:
    red = instances["red-triangle"]
    return {
        "instance": (instance_path(red), [red]),
        "series": (series_path(red), [red, instances["green-square"]]),
        "study": (f"studies/{red.study_uid}", list(instances.values())),
    }


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-004")
@pytest.mark.parametrize("level", ["instance", "series", "study"])
def test_second_delete_is_not_found(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet, level: str) -> None:
    """Deleting the same instance, series or study twice: 204, then 404."""
    path, removed = _resource_paths(stored_tutorial_set)[level]
    delete(dicomweb, path, removed, f"first delete of the {level}")
    response = dicomweb.client.delete(path)
    expect_status(response, 404, f"second delete of the {level}")
