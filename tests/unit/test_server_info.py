"""The server's real name and version, from Orthanc's /system, a target's version URL, or the Server header."""

from __future__ import annotations

from typing import Any

import requests

from dicomweb_conformance.config.server_info import detect
from dicomweb_conformance.config.target import resolve_target


class FakeSession(requests.Session):
    """Answers GETs from a table of URL -> (status, JSON); everything else 404."""

    def __init__(self, answers: dict[str, Any]):
        super().__init__()
        self.answers = answers
        self.asked: list[str] = []

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        self.asked.append(str(url))
        response = requests.Response()
        response.status_code = 200 if url in self.answers else 404
        response._content = requests.compat.json.dumps(self.answers.get(str(url), {})).encode()  # type: ignore[attr-defined]
        return response


def answer_with_server_header(value: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["Server"] = value
    return response


def test_orthanc_is_known_by_its_system_resource_beside_the_dicomweb_root() -> None:
    target = resolve_target({"url": "http://127.0.0.1:8042/dicom-web"}, {})
    session = FakeSession(
        {
            "http://127.0.0.1:8042/system": {
                "Name": "my-pacs",
                "Version": "1.12.7",
                "ApiVersion": 27,
                "DatabaseVersion": 6,
            },
            "http://127.0.0.1:8042/plugins/dicom-web": {"Version": "1.20"},
        }
    )
    server = detect(session, target, None)
    assert (server.name, server.version) == ("Orthanc", "1.12.7"), "the configured Name is not the product"
    assert server.describe() == "Orthanc 1.12.7 + DICOMweb plugin 1.20 (from http://127.0.0.1:8042/system)"


def test_a_version_url_in_the_target_file_wins(tmp_path: Any) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[target]\nbase_url = "https://pacs.example/dicomweb"\n'
        '[server]\nname = "VendorPACS"\nversion_url = "/api/version"\nversion_field = "build"\n'
    )
    target = resolve_target({"target": str(path)}, {})
    session = FakeSession({"https://pacs.example/api/version": {"build": "7.3.1"}})
    server = detect(session, target, answer_with_server_header("nginx/1.25.0"))
    assert (server.name, server.version) == ("VendorPACS", "7.3.1")


def test_otherwise_the_server_header_and_else_unknown() -> None:
    target = resolve_target({"url": "https://pacs.example/dicomweb"}, {})
    server = detect(FakeSession({}), target, answer_with_server_header("dcm4chee-arc/5.31.0"))
    assert (server.name, server.version) == ("dcm4chee-arc", "5.31.0")
    unknown = detect(FakeSession({}), target, answer_with_server_header("Kestrel"))
    assert unknown.version is None
    assert "unknown server version" in unknown.describe()
