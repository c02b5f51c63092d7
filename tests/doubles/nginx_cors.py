"""Debian's nginx as the reverse proxy a deployment puts in front of a server without CORS support (Orthanc), with
the CORS configuration such a deployment uses: a browser's preflight (OPTIONS) answered 204 with the allowed origin,
methods and headers; every answer, errors included (`always`), given Access-Control-Allow-Origin for the one origin
the viewer is served from. Test infrastructure, not a product: tests/integration/test_cors_in_browser.py.

    with NginxCors("http://127.0.0.1:8042", viewer_origin="http://127.0.0.1:3000") as nginx:
        nginx.url  # the server, now at its own origin
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import requests

from dicomweb_conformance.launchers.local_server import ServerStartError, free_port, stop_process, wait_until

NGINX = "/usr/sbin/nginx"
START_TIMEOUT = 30.0

CONFIG = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  client_max_body_size 0;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      if ($request_method = OPTIONS) {{
        add_header Access-Control-Allow-Origin "{origin}" always;
        add_header Access-Control-Allow-Methods "GET, POST, OPTIONS" always;
        add_header Access-Control-Allow-Headers "Accept, Authorization, Content-Type" always;
        add_header Access-Control-Max-Age 600 always;
        add_header Vary Origin always;
        return 204;
      }}
      add_header Access-Control-Allow-Origin "{origin}" always;
      add_header Vary Origin always;
      proxy_pass {upstream};
      proxy_http_version 1.1;
      proxy_request_buffering off;
    }}
  }}
}}
"""


class NginxCors:
    def __init__(self, upstream: str, *, viewer_origin: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.viewer_origin = viewer_origin
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="nginx-cors-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NginxCors:
        config = self.workdir / "nginx.conf"
        config.write_text(
            CONFIG.format(dir=self.workdir, port=self.port, origin=self.viewer_origin, upstream=self.upstream)
        )
        log = self.workdir / "nginx.out"
        with log.open("wb") as out:
            # master_process off: one process, the pid recorded here, stopped by it alone.
            command = [NGINX, "-p", str(self.workdir), "-c", str(config), "-g", "daemon off; master_process off;"]
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(self._answers, timeout=START_TIMEOUT, process=self._process, log=log)
        except ServerStartError as error:
            self.stop()
            raise ServerStartError(f"nginx on port {self.port} {error}") from None
        return self

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/system", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> NginxCors:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
