"""The tutorial's deletes (Azure extension): instance, then series, then study; gone afterwards by metadata, WADO
retrieve and QIDO, while what was not deleted stays retrievable byte for byte and searchable."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_status
from dicomweb_conformance.fixtures.resources import TutorialSet
from dicomweb_conformance.suites.delete.deletion import (
    check_instance_gone,
    check_series_gone,
    check_still_there,
    check_study_gone,
    delete,
    study_path,
)
from dicomweb_conformance.transport.store import Dicomweb, instance_path, series_path


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-001")
def test_delete_instance(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet) -> None:
    """DELETE red-triangle answers 204; red-triangle then answers 404 while green-square remains."""
    red, green = stored_tutorial_set["red-triangle"], stored_tutorial_set["green-square"]
    delete(dicomweb, instance_path(red), "delete red-triangle")
    check_instance_gone(dicomweb, red, "after red-triangle's delete")
    check_still_there(dicomweb, [green], "green-square after red-triangle's delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-002")
def test_delete_series(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet) -> None:
    """DELETE the red/green series answers 204; the series then answers 404 while blue-circle's series remains."""
    red, green, blue = (stored_tutorial_set[n] for n in ("red-triangle", "green-square", "blue-circle"))
    delete(dicomweb, series_path(red), "delete the red/green series")
    check_series_gone(dicomweb, red, "after the red/green series' delete")
    for instance in (red, green):
        check_instance_gone(dicomweb, instance, "after the red/green series' delete")
    check_still_there(dicomweb, [blue], "blue-circle's series after the other series' delete")


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-003")
def test_delete_study(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet) -> None:
    """DELETE the tutorial study answers 204; the study then answers 404."""
    instances = list(stored_tutorial_set.values())
    delete(dicomweb, study_path(instances[0]), "delete the study")
    check_study_gone(dicomweb, instances[0], "after the study's delete")
    for instance in instances:
        check_series_gone(dicomweb, instance, "after the study's delete")
        check_instance_gone(dicomweb, instance, "after the study's delete")


def _resource_paths(instances: TutorialSet) -> dict[str, str]:
    red = instances["red-triangle"]
    return {"instance": instance_path(red), "series": series_path(red), "study": f"studies/{red.study_uid}"}


@pytest.mark.destructive
@pytest.mark.req("AZ-DEL-004")
@pytest.mark.parametrize("level", ["instance", "series", "study"])
def test_second_delete_is_not_found(dicomweb: Dicomweb, stored_tutorial_set: TutorialSet, level: str) -> None:
    """Deleting the same instance, series or study twice: 204, then 404."""
    path = _resource_paths(stored_tutorial_set)[level]
    delete(dicomweb, path, f"first delete of the {level}")
    response = dicomweb.client.delete(path)
    expect_status(response, 404, f"second delete of the {level}")
