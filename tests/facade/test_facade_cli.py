"""The launcher's command line: `python -m tests.doubles.facade.server --start-orthanc ...`."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.doubles.facade.credential import ShortLivedTestCredential

REPO = Path(__file__).resolve().parents[2]


def test_the_cli_serves_the_v2_url_it_prints_and_stops_on_sigterm(tmp_path: Path) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text("# one token a line\ncli-token\n")
    pidfile = tmp_path / "facade.pid"
    command = [sys.executable, "-m", "tests.doubles.facade.server", "--start-orthanc"]
    command += ["--token-file", str(token_file), "--pidfile", str(pidfile)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "the launcher printed nothing within 30 s"
        url = process.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/v2")
        assert pidfile.read_text() == str(process.pid)
        assert requests.get(f"{url}/changefeed", timeout=10).status_code == 401
        authorized = requests.get(f"{url}/changefeed", headers={"Authorization": "Bearer cli-token"}, timeout=10)
        assert authorized.status_code == 200
        assert authorized.json() == []
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode(errors="replace")


def test_the_cli_accepts_only_the_test_credentials_tokens_with_a_secret_env(tmp_path: Path) -> None:
    command = [
        *(sys.executable, "-m", "tests.doubles.facade.server"),
        *("--start-orthanc", "--token-secret-env", "CLI_SECRET"),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "CLI_SECRET": "cli-secret"}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "the launcher printed nothing within 30 s"
        url = process.stdout.readline().decode().strip()
        token = ShortLivedTestCredential("cli-secret", 60).get_token("https://dicom.healthcareapis.azure.com/.default")
        assert (
            requests.get(f"{url}/changefeed", headers={"Authorization": "Bearer cli-token"}, timeout=10).status_code
            == 401
        )
        authorized = requests.get(f"{url}/changefeed", headers={"Authorization": f"Bearer {token.token}"}, timeout=10)
        assert authorized.status_code == 200
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode(errors="replace")
