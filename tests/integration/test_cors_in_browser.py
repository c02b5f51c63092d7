"""The browser agrees with the CORS checks: headless Chromium (Debian's package) loads a page of ours from origin A
(127.0.0.1:portA) whose script calls the server at origin B with fetch(), each request with the method and the
headers OHIF or cornerstone sets (the same BrowserRequest objects the checks send, dicomweb_conformance/checks/cors.py),
and for each request the browser's success (the page reads the status and the body) must be what the checks' verdicts
say: success exactly when every CORS requirement on that request PASSes.

Servers at origin B: Orthanc (the host's generation) bare (no CORS at all), behind Debian's nginx configured as a
deployment configures it (tests/doubles/nginx_cors.py), and behind the fault proxy's CORS layer, alone and with one
fault outside it (tests/faults/rules_clients_cors.py). Each scenario gets a fresh proxy port (a new origin, so no
preflight cache carries over) and a fresh browser context. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from dicomweb_conformance.checks.clients import build_client_study
from dicomweb_conformance.checks.cors import (
    BrowserRequest,
    cornerstone_frame,
    multipart_body,
    ohif_missing_metadata,
    ohif_requests,
)
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.transport.store import instance_path, series_path
from tests.doubles.nginx_cors import NGINX, NginxCors
from tests.faults.proxy import FaultProxy
from tests.faults.rules_clients_cors import CORS_FAULTS, CORS_REPAIRS
from tests.integration.suite_runner import ROOT, run_suite

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOUNDARY = "5b0c7e1a-3f2d-4c8b-a6e9-1d4f7b2c9e30"
CHECKS = "suites/clients/test_client_cors.py::"

# What the page does: each request with fetch(), as the client's XMLHttpRequest would (no credentials mode
# "include" in either); `shared` is whether the browser handed the page the answer.
PAGE = b"""<!doctype html><meta charset="utf-8"><title>viewer</title><script>
window.send = async (requests) => {
  const results = {};
  for (const r of requests) {
    const init = {method: r.method, headers: r.headers, mode: "cors"};
    if (r.body) init.body = Uint8Array.from(atob(r.body), c => c.charCodeAt(0));
    try {
      const response = await fetch(r.url, init);
      const body = await response.arrayBuffer();
      results[r.name] = {shared: true, status: response.status, contentType: response.headers.get("Content-Type"),
                         bytes: body.byteLength};
    } catch (error) {
      results[r.name] = {shared: false, error: String(error)};
    }
  }
  return results;
};
</script>"""

# Each request of the page, and the checks whose PASS says the browser lets it through (a check on each OHIF request
# judges all four: the faults here break the four alike).
VERDICTS: dict[str, tuple[str, ...]] = {
    "ohif-study-search": (
        "test_ohif_preflight_answers_ok",
        "test_ohif_answers_are_shared_with_the_viewer",
        "test_ohif_authorization_allowed",
    ),
    "ohif-series-metadata": (
        "test_ohif_preflight_answers_ok",
        "test_ohif_answers_are_shared_with_the_viewer",
        "test_ohif_authorization_allowed",
    ),
    "ohif-frame": (
        "test_ohif_preflight_answers_ok",
        "test_ohif_answers_are_shared_with_the_viewer",
        "test_ohif_authorization_allowed",
        "test_ohif_frame_accept_allowed",
    ),
    "ohif-store": (
        "test_ohif_preflight_answers_ok",
        "test_ohif_answers_are_shared_with_the_viewer",
        "test_ohif_authorization_allowed",
        "test_ohif_stow_content_type_allowed",
    ),
    # The error request carries Authorization too: the browser sends the metadata preflight first.
    "ohif-missing-metadata": (
        "test_ohif_preflight_answers_ok",
        "test_ohif_authorization_allowed",
        "test_ohif_error_is_shared_with_the_viewer",
    ),
    "cornerstone-frame": ("test_cornerstone_frame_is_shared_with_the_viewer",),
    "cornerstone-missing-frame": ("test_cornerstone_frame_error_is_shared_with_the_viewer",),
}

# Origin B: None is Orthanc itself, "nginx" Orthanc behind Debian's nginx configured for CORS (tests/doubles/
# nginx_cors.py); a tuple is the fault proxy's CORS layer with those faults outside it.
SCENARIOS: dict[str, tuple[str, ...] | str | None] = {
    "orthanc-bare": None,
    "nginx": "nginx",
    "cors-layer": (),
    "cors-preflight-404": ("cors-preflight-404",),
    "cors-wrong-origin": ("cors-wrong-origin",),
    "cors-no-allow-authorization": ("cors-no-allow-authorization",),
    "cors-no-allow-accept": ("cors-no-allow-accept",),
    "cors-no-allow-content-type": ("cors-no-allow-content-type",),
    "cors-no-origin-on-errors": ("cors-no-origin-on-errors",),
    "cors-allow-headers-wildcard": ("cors-allow-headers-wildcard",),
}


@dataclass(frozen=True)
class PageRequest:
    name: str
    request: BrowserRequest
    body: bytes | None = None

    def for_page(self, base_url: str) -> dict[str, Any]:
        url = requests.Request("GET", f"{base_url}/{self.request.path}", params=list(self.request.query)).prepare().url
        body = base64.b64encode(self.body).decode() if self.body else None
        return {
            "name": self.name,
            "method": self.request.method,
            "url": url,
            "headers": dict(self.request.headers),
            "body": body,
        }


@contextmanager
def page_origin() -> Iterator[str]:
    """Origin A: a server of our own on loopback that serves the page."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def origin_b(orthanc: OrthancServer, faults: tuple[str, ...] | str | None, viewer_origin: str) -> Iterator[str]:
    """The server's root URL (no /dicom-web) at origin B."""
    if faults is None:
        yield orthanc.rest_url.rstrip("/")
        return
    if isinstance(faults, str):
        with NginxCors(orthanc.rest_url, viewer_origin=viewer_origin) as nginx:
            yield nginx.url
        return
    with FaultProxy(orthanc.rest_url) as proxy:
        proxy.switch([*(CORS_FAULTS[name] for name in faults), CORS_REPAIRS["cors-layer"]])
        yield proxy.url
        assert not proxy.errors, proxy.errors


def page_requests(orthanc: OrthancServer) -> list[PageRequest]:
    """The requests of the page, on an instance stored in Orthanc first (and a fresh one for the page's STOW)."""
    [stored] = build_client_study("corsbrowser", ["sc8_explicit"]).instances.values()
    [sent] = build_client_study("corsbrowser", ["sc8_explicit"]).instances.values()
    stored_body = multipart_body([stored.data], BOUNDARY)
    content_type = f'multipart/related; type="application/dicom"; boundary="{BOUNDARY}"'
    answer = requests.post(f"{orthanc.dicomweb_url}/studies", stored_body, headers={"Content-Type": content_type})
    assert answer.status_code == 200, answer.text
    ohif = ohif_requests(stored.study_uid, series_path(stored), instance_path(stored), BOUNDARY)
    missing_instance = f"studies/{new_uid()}/series/{new_uid()}/instances/{new_uid()}"
    return [
        *(PageRequest(f"ohif-{name}", request) for name, request in ohif.items() if name != "store"),
        PageRequest("ohif-store", ohif["store"], multipart_body([sent.data], BOUNDARY)),
        PageRequest("ohif-missing-metadata", ohif_missing_metadata(new_uid(), new_uid())),
        PageRequest("cornerstone-frame", cornerstone_frame(instance_path(stored))),
        PageRequest("cornerstone-missing-frame", cornerstone_frame(missing_instance)),
    ]


def check_verdicts(tmp_path: Path, base_url: str, viewer_origin: str) -> dict[str, str]:
    """The CORS checks' outcome per test name, run as a user runs them: the target file naming the viewer's origin."""
    tmp_path.mkdir()
    target = tmp_path / "target.toml"
    shipped = (ROOT / "targets" / "orthanc.toml").read_text().split("\n[[deviation]]")[0]
    target.write_text(shipped + f'\n[cors]\norigin = "{viewer_origin}"\n')
    run = run_suite(
        tmp_path / "reports",
        *("--dicomweb-url", f"{base_url}/dicom-web", "--dicomweb-target", str(target), "-k", "test_client_cors"),
        strict_deviations=False,
    )
    outcomes = {node.removeprefix(CHECKS): outcome for node, outcome in run.outcomes.items() if node.startswith(CHECKS)}
    assert set(outcomes) >= {name for names in VERDICTS.values() for name in names}, run.output[-3000:]
    return outcomes


def browser_results(browser: Browser, page_url: str, base_url: str, wanted: list[PageRequest]) -> Mapping[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_url)
        return page.evaluate("requests => window.send(requests)", [p.for_page(f"{base_url}/dicom-web") for p in wanted])  # type: ignore[no-any-return]
    finally:
        context.close()


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (.ci/install does it)")
@pytest.mark.skipif(shutil.which(NGINX) is None, reason="Debian's nginx is not installed (.ci/install does it)")
def test_the_browser_lets_through_exactly_what_the_checks_pass(orthanc: OrthancServer, tmp_path: Path) -> None:
    wanted = page_requests(orthanc)
    disagreements: list[str] = []
    seen: dict[str, dict[str, bool]] = {}
    named: dict[str, str] = {}
    with page_origin() as viewer_origin, sync_playwright() as playwright:
        # Playwright's launch gives the browser a fresh, empty user data directory of its own.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for scenario, faults in SCENARIOS.items():
                with origin_b(orthanc, faults, viewer_origin) as base_url:
                    verdicts = check_verdicts(tmp_path / scenario, base_url, viewer_origin)
                    results = browser_results(browser, viewer_origin + "/", base_url, wanted)
                seen[scenario] = {name: result["shared"] for name, result in results.items()}
                named[scenario] = verdicts["test_ohif_authorization_named"]
                for name, checks in VERDICTS.items():
                    expected = all(verdicts[check] == "PASS" for check in checks)
                    if results[name]["shared"] != expected:
                        failing = {check: verdicts[check] for check in checks if verdicts[check] != "PASS"}
                        disagreements.append(f"{scenario} {name}: browser {results[name]}, checks {failing or 'PASS'}")
                    elif results[name]["shared"] and results[name]["status"] < 400:
                        # Content-Type is a CORS-safelisted response header: readable without Expose-Headers.
                        assert results[name]["contentType"], f"{scenario} {name}: {results[name]}"
        finally:
            browser.close()
    assert not disagreements, "\n".join(disagreements)
    # Orthanc alone shares nothing with the viewer; behind the layer everything goes through.
    assert not any(seen["orthanc-bare"].values()), seen["orthanc-bare"]
    for scenario in ("cors-layer", "nginx"):
        assert all(seen[scenario].values()), seen[scenario]
        assert named[scenario] == "PASS", named[scenario]
    # Allow-Headers: * alone: Chromium 156 still lets it cover Authorization (deprecated), the Fetch standard does not;
    # the SHALL check judges as the browser does (above), the SHOULD (CL-OHIF-CORS-AUTHORIZATION-NAMED) as the standard.
    assert all(seen["cors-allow-headers-wildcard"].values()), seen["cors-allow-headers-wildcard"]
    assert named["cors-allow-headers-wildcard"] == "NON-STRICT", named["cors-allow-headers-wildcard"]
    # The clients differ: cornerstone's frame request is not preflighted, OHIF's is (its Accept is quoted).
    for scenario in ("cors-no-allow-accept", "cors-preflight-404"):
        assert seen[scenario]["cornerstone-frame"], seen[scenario]
        assert not seen[scenario]["ohif-frame"], seen[scenario]
