"""The Fetch standard's CORS rules as checks/cors.py encodes them, and the target file's [cors] origin."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from dicomweb_conformance.checks.common import ConformanceFailure
from dicomweb_conformance.checks.cors import (
    CORNERSTONE_FRAMES_ACCEPT,
    OHIF_FRAMES_ACCEPT,
    BrowserRequest,
    check_allow_headers,
    check_allow_origin,
    cornerstone_frame,
    ohif_requests,
    unsafe_request_header_names,
)
from dicomweb_conformance.config.catalog import load_catalog
from dicomweb_conformance.config.settings import ConfigError
from dicomweb_conformance.config.target import resolve_target

ORIGIN = "http://127.0.0.1:3000"


def answer(**headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 204
    response.headers.update({name.replace("_", "-"): value for name, value in headers.items()})
    return response


@pytest.mark.parametrize(
    ("headers", "unsafe"),
    [
        ({"Accept": "application/dicom+json"}, []),
        ({"Accept": CORNERSTONE_FRAMES_ACCEPT}, []),  # no CORS-unsafe byte: safelisted
        ({"Accept": OHIF_FRAMES_ACCEPT}, ["accept"]),  # double quotes are CORS-unsafe bytes
        ({"Accept": "application/dicom+json", "Authorization": "Bearer x"}, ["authorization"]),
        ({"Content-Type": "text/plain; charset=utf-8"}, []),
        ({"Content-Type": 'multipart/related; type="application/dicom"; boundary=b'}, ["content-type"]),
        ({"Accept": "a/" + "b" * 127}, ["accept"]),  # over 128 bytes
    ],
)
def test_the_unsafe_header_names_are_what_a_browser_asks_for(headers: dict[str, str], unsafe: list[str]) -> None:
    assert unsafe_request_header_names(headers) == unsafe


def test_the_clients_requests_need_the_preflights_they_get() -> None:
    ohif = ohif_requests("1.2", "studies/1.2/series/1.3", "studies/1.2/series/1.3/instances/1.4", "b")
    assert {name: r.unsafe_headers for name, r in ohif.items()} == {
        "study-search": ["authorization"],
        "series-metadata": ["authorization"],
        "frame": ["accept", "authorization"],
        "store": ["authorization", "content-type"],
    }
    assert not cornerstone_frame("studies/1/series/2/instances/3").needs_preflight


def test_allow_origin_is_the_origin_or_a_wildcard() -> None:
    check_allow_origin(answer(Access_Control_Allow_Origin=ORIGIN), ORIGIN, "x", "OHIF")
    check_allow_origin(answer(Access_Control_Allow_Origin="*"), ORIGIN, "x", "OHIF")
    for wrong in (answer(), answer(Access_Control_Allow_Origin="http://127.0.0.1:3001")):
        with pytest.raises(ConformanceFailure):
            check_allow_origin(wrong, ORIGIN, "x", "OHIF")


def test_a_wildcard_never_covers_authorization_under_the_standard() -> None:
    request = BrowserRequest("OHIF", "x", "GET", "studies", {"Authorization": "Bearer x"})
    wildcard = answer(Access_Control_Allow_Headers="*")
    check_allow_headers(wildcard, request, ["accept", "content-type"], "OHIF")
    check_allow_headers(wildcard, request, ["authorization"], "OHIF", wildcard_covers_authorization=True)
    with pytest.raises(ConformanceFailure):
        check_allow_headers(wildcard, request, ["authorization"], "OHIF")
    check_allow_headers(answer(Access_Control_Allow_Headers="Accept, AUTHORIZATION"), request, ["authorization"], "")


def test_the_target_file_names_the_viewer_origin(tmp_path: Path) -> None:
    path = tmp_path / "target.toml"
    path.write_text(f'[target]\nbase_url = "http://127.0.0.1:9/dicom-web"\n[cors]\norigin = "{ORIGIN}"\n')
    assert resolve_target({"target": str(path)}, {}).cors_origin == ORIGIN
    assert resolve_target({"url": "http://127.0.0.1:9/dicom-web"}, {}).cors_origin is None
    for wrong in ('origin = "http://viewer.example/app"', 'origin = "viewer.example"', 'origins = "http://a"'):
        path.write_text(f'[target]\nbase_url = "http://127.0.0.1:9/dicom-web"\n[cors]\n{wrong}\n')
        with pytest.raises(ConfigError, match=r"\[cors\]"):
            resolve_target({"target": str(path)}, {})


def test_capability_cors_is_claimed_by_the_origin_alone(tmp_path: Path) -> None:
    path = tmp_path / "target.toml"
    path.write_text('[target]\nbase_url = "http://127.0.0.1:9/dicom-web"\n[capabilities]\ncors = true\n')
    with pytest.raises(ConfigError, match=r"\[cors\] origin"):
        resolve_target({"target": str(path)}, {})
    target = resolve_target({"url": "http://127.0.0.1:9/dicom-web"}, {})
    reason = load_catalog()["CL-OHIF-CORS-PREFLIGHT"].not_applicable_because(target)
    assert reason is not None
    assert "[cors] origin =" in reason
