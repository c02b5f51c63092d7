"""The tiny-pacs launcher: it starts, serves DICOMweb on loopback, enforces its token, and stops by pid."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from dicomweb_conformance.launchers.local_server import ServerStartError
from tests.doubles.tiny_pacs_server import TinyPacsServer, main
from tests.integration.suite_runner import ROOT

TOKEN = "tp-launcher-test-token"
QIDO = {"Accept": "application/dicom+json"}


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_it_serves_dicomweb_on_loopback_and_stops() -> None:
    with TinyPacsServer() as server:
        assert server.dicomweb_url == f"http://127.0.0.1:{server.port}/dicomweb"
        # An empty archive: PS3.18 8.3.4.4.1 answers 204 to a search with no match.
        assert requests.get(f"{server.dicomweb_url}/studies", headers=QIDO, timeout=10).status_code == 204
        process_id = server.pid
        assert process_id is not None
    assert server.pid is None
    assert not port_is_open(server.port), "the HTTP port is closed after stop"
    with pytest.raises(ProcessLookupError):
        os.kill(process_id, 0)


def test_it_enforces_the_token() -> None:
    with TinyPacsServer(tokens=[TOKEN]) as server:
        studies = f"{server.dicomweb_url}/studies"
        refused = requests.get(studies, headers=QIDO, timeout=10)
        wrong = requests.get(studies, headers={**QIDO, "Authorization": "Bearer not-the-token"}, timeout=10)
        right = requests.get(studies, headers={**QIDO, "Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert (refused.status_code, wrong.status_code, right.status_code) == (401, 401, 204)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_empty_token_list_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        TinyPacsServer(tokens=[])


def test_a_busy_port_gives_a_clear_error_with_the_log() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServerStartError, match=r"(?s)could not bind its HTTP port.*Address already in use"):
            TinyPacsServer(port=port, start_timeout=15).start()


def test_a_missing_executable_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerStartError, match=r"pip install"):
        TinyPacsServer().start()


def test_the_command_line_prints_the_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(f"# the token\n{TOKEN}\n")
    pidfile = tmp_path / "tiny-pacs.pid"
    command = [sys.executable, "-m", "tests.doubles.tiny_pacs_server", "--token-file", str(token_file)]
    launcher = subprocess.Popen([*command, "--pidfile", str(pidfile)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert launcher.stdout is not None
        url = launcher.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/dicomweb", url), url
        assert requests.get(f"{url}/studies", headers=QIDO, timeout=10).status_code == 401
        authorised = {**QIDO, "Authorization": f"Bearer {TOKEN}"}
        assert requests.get(f"{url}/studies", headers=authorised, timeout=10).status_code == 204
        server_pid = int(pidfile.read_text())
    finally:
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 0
    port = int(url.split(":")[2].removesuffix("/dicomweb"))
    assert not port_is_open(port)
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)


def test_the_command_line_refuses_an_empty_token_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text("# no token here\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["--token-file", str(token_file)])
    assert exit_info.value.code == 2
