"""A multi-frame instance of a gigabyte or more, up and down as streams (opt in: `-m large`; size: DICOMWEB_LARGE_MB,
default 1024). It is written to a temporary file frame by frame, sent with a Content-Length from that file, and
read back with transfer-syntax=* chunk by chunk: the client never holds more than a chunk. The run prints the
throughput each way and the client's peak memory."""

from __future__ import annotations

import os
import resource
import secrets
import time

import pytest

from dicomweb_conformance.checks.common import expect_status, fail
from dicomweb_conformance.checks.store import check_successful_store
from dicomweb_conformance.corpora.large_instance import (
    RelatedBody,
    only_part_digest,
    write_large_file,
)
from dicomweb_conformance.transport.multipart import boundary_of, related_content_type
from dicomweb_conformance.transport.store import MULTIPART_DICOM_ANY_TS, Dicomweb, instance_path

DEFAULT_MB = 1024
READ_CHUNK = 1 << 20


@pytest.mark.large
@pytest.mark.req("DW-DATA-014")
def test_a_gigabyte_instance_round_trips(
    dicomweb: Dicomweb, run_id: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A multi-frame instance of DICOMWEB_LARGE_MB (1024) MB is stored and retrieved with '*', its dataset intact."""
    megabytes = int(os.environ.get("DICOMWEB_LARGE_MB", DEFAULT_MB))
    before = _peak_rss_mb()
    large = write_large_file(tmp_path_factory.mktemp("large"), run_id, megabytes << 20)
    try:
        boundary = secrets.token_hex(16)
        body = RelatedBody(large.path, boundary)
        dicomweb.record([large.instance])
        started = time.monotonic()
        response = dicomweb.client.post("studies", body, content_type=related_content_type(boundary))
        up = time.monotonic() - started
        check_successful_store(response, [large.instance], f"store of the {large.size >> 20} MB instance")
        started = time.monotonic()
        with dicomweb.client.streamed(instance_path(large.instance), accept=MULTIPART_DICOM_ANY_TS) as retrieved:
            expect_status(retrieved, 200, "retrieve of the large instance")
            part_boundary = boundary_of(retrieved.headers.get("Content-Type", ""))
            digest, length = only_part_digest(retrieved.iter_content(READ_CHUNK), part_boundary)
        down = time.monotonic() - started
    finally:
        large.path.unlink(missing_ok=True)
    if digest != large.dataset_sha256:
        raise fail(
            "the large instance came back with another dataset",
            expected=f"the stored dataset (SHA-256 {large.dataset_sha256[:16]}...)",
            actual=f"a {length}-byte file whose dataset hashes to {digest[:16]}...",
        )
    peak = _peak_rss_mb()
    with capsys.disabled():
        print(
            f"\nlarge round trip: {large.size >> 20} MB, {large.frames} frames; up {large.size / up / 1e6:.0f} MB/s, "
            f"down {length / down / 1e6:.0f} MB/s; client peak RSS {peak} MB ({before} MB before the round trip)"
        )


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10  # Linux: KiB
