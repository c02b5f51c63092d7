"""Run the Azure-like facade in front of an Orthanc, on 127.0.0.1.

Usage from the command line (prints the v2 base URL, runs until SIGTERM/SIGINT):
    python -m tests.doubles.facade.server (--orthanc http://127.0.0.1:8042 | --start-orthanc)
        [--port N] [--token-file FILE | --token-secret-env NAME] [--pidfile FILE] [--sequence-gap EVERY:SIZE]

--token-file accepts the listed bearer tokens; --token-secret-env names the environment variable
holding the secret of the test credential (tests/doubles/facade/credential.py), whose signed, expiring
tokens are then the only ones accepted. --sequence-gap 25:150 skips 150 change-feed sequence numbers
after every 25 entries, as Azure's identity column does after rolled-back inserts (changefeed.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from dicomweb_conformance.launchers.local_server import ServerStartError, read_tokens, serve_until, stop_requests
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.doubles.facade.auth import SignedTokens, StaticTokens, TokenVerifier
from tests.doubles.facade.changefeed import ChangeFeed, SequenceGap
from tests.doubles.facade.handler import FacadeHTTPServer
from tests.doubles.facade.orthanc_api import OrthancClient
from tests.doubles.facade.state import FacadeState


class AzureFacade:
    """`with AzureFacade(orthanc.rest_url) as facade: facade.url("v2")`; serves from a background thread.

    Authentication: none (the default), a fixed set of bearer `tokens`, or the signed, expiring tokens
    of the test credential sharing `token_secret` (then `facade.verifier.accepted` lists those seen).
    """

    def __init__(
        self,
        orthanc_rest_url: str,
        *,
        tokens: set[str] | None = None,
        token_secret: str | None = None,
        port: int = 0,
        sequence_gap: SequenceGap | None = None,
    ) -> None:
        self.orthanc_rest_url = orthanc_rest_url.rstrip("/")
        self.verifier = _verifier(tokens, token_secret)
        self.port = port
        self.sequence_gap = sequence_gap
        self._server: FacadeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT, without a version segment."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, version: str = "v2") -> str:
        return f"{self.base_url}/{version}"

    def start(self) -> AzureFacade:
        orthanc = OrthancClient(self.orthanc_rest_url)
        if not orthanc.is_up():
            raise ServerStartError(f"no Orthanc answers GET {self.orthanc_rest_url}/system")
        self._server = FacadeHTTPServer(self.port, FacadeState(orthanc, self.verifier, ChangeFeed(self.sequence_gap)))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="azure-facade", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> AzureFacade:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _verifier(tokens: set[str] | None, token_secret: str | None) -> TokenVerifier | None:
    if tokens is not None and token_secret is not None:
        raise ValueError("give tokens or a token secret, not both")
    if tokens is not None:
        if not tokens:
            raise ValueError("tokens must hold at least one token, or be None for no authentication")
        return StaticTokens(frozenset(tokens))
    if token_secret is not None:
        return SignedTokens(token_secret)
    return None


def _sequence_gap(text: str) -> SequenceGap:
    every, _, size = text.partition(":")
    if not (every.isdigit() and size.isdigit() and int(every) > 0):
        raise argparse.ArgumentTypeError(f"expected EVERY:SIZE (e.g. 25:150), got {text!r}")
    return SequenceGap(int(every), int(size))


@contextmanager
def facade_over_fresh_orthanc(
    *,
    tokens: set[str] | None = None,
    token_secret: str | None = None,
    port: int = 0,
    sequence_gap: SequenceGap | None = None,
) -> Iterator[AzureFacade]:
    """A throw-away Orthanc and a facade in front of it; both stop on exit (Orthanc by its pid)."""
    with (
        OrthancServer() as orthanc,
        AzureFacade(
            orthanc.rest_url, tokens=tokens, token_secret=token_secret, port=port, sequence_gap=sequence_gap
        ) as facade,
    ):
        yield facade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    upstream = parser.add_mutually_exclusive_group(required=True)
    upstream.add_argument("--orthanc", help="the Orthanc REST URL, e.g. http://127.0.0.1:8042")
    upstream.add_argument("--start-orthanc", action="store_true", help="start a throw-away Orthanc")
    parser.add_argument("--port", type=int, default=0)
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--token-file", type=Path, help="valid bearer tokens, one a line")
    auth.add_argument("--token-secret-env", help="environment variable holding the test credential's secret")
    parser.add_argument("--pidfile", type=Path, help="write this process's pid here")
    parser.add_argument(
        "--sequence-gap",
        type=_sequence_gap,
        metavar="EVERY:SIZE",
        help="skip SIZE sequence numbers every EVERY entries",
    )
    args = parser.parse_args(argv)
    tokens = read_tokens(args.token_file) if args.token_file else None
    secret = None
    if args.token_secret_env:
        secret = os.environ.get(args.token_secret_env)
        if not secret:
            parser.error(f"the environment variable {args.token_secret_env} is not set")
    stopping = stop_requests()
    with ExitStack() as stack:
        if args.start_orthanc:
            facade = stack.enter_context(
                facade_over_fresh_orthanc(
                    tokens=tokens, token_secret=secret, port=args.port, sequence_gap=args.sequence_gap
                )
            )
        else:
            facade = stack.enter_context(
                AzureFacade(
                    args.orthanc, tokens=tokens, token_secret=secret, port=args.port, sequence_gap=args.sequence_gap
                )
            )
        if args.pidfile:
            args.pidfile.write_text(str(os.getpid()))
        print(facade.url("v2"), flush=True)
        serve_until(stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
