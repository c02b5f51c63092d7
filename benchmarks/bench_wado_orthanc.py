"""Wire speed of the suite's own STOW and WADO paths against a throw-away Orthanc. Prints figures.

    python benchmarks/bench_wado_orthanc.py [--instances 100] [--size-mb 2]

Reference figures measured on this machine kind (shared/reference/multipart-performance.md):
curl retrieve about 1,315 MB/s, streaming parsers 1,230-1,350 MB/s; store 109-212 MB/s.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import time

import requests

from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.transport.multipart import encode_related
from dicomweb_conformance.transport.multipart_decoder import iter_parts

MULTIPART_ANY = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def make_study(count: int, size_mb: float) -> list[SampleInstance]:
    study, series = new_uid(), new_uid()
    side = int((size_mb * 1024 * 1024) ** 0.5)
    return [
        synthetic_instance("bench", study_uid=study, series_uid=series, rows=side, columns=side) for _ in range(count)
    ]


def store(url: str, instances: list[SampleInstance], per_request: int) -> float:
    started = time.perf_counter()
    for index in range(0, len(instances), per_request):
        body, content_type = encode_related([i.data for i in instances[index : index + per_request]])
        response = requests.post(
            f"{url}/studies",
            data=body,
            headers={"Content-Type": content_type, "Accept": "application/dicom+json"},
            timeout=600,
        )
        response.raise_for_status()
    return time.perf_counter() - started


def retrieve(url: str, study: str, *, digest: bool) -> tuple[float, int, int]:
    started = time.perf_counter()
    total = parts = 0
    with requests.get(
        f"{url}/studies/{study}", headers={"Accept": MULTIPART_ANY}, stream=True, timeout=600
    ) as response:
        response.raise_for_status()
        boundary = response.headers["Content-Type"].split("boundary=")[1].split(";")[0].strip('"')
        for part in iter_parts(response.iter_content(256 * 1024), boundary):
            total += len(part.content)
            parts += 1
            if digest:
                hashlib.sha256(part.content).digest()
    return time.perf_counter() - started, total, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--size-mb", type=float, default=2.0)
    args = parser.parse_args()
    instances = make_study(args.instances, args.size_mb)
    megabytes = sum(len(i.data) for i in instances) / 1e6
    print(f"{args.instances} instances, {megabytes:.0f} MB in all")
    with OrthancServer() as orthanc:
        url = orthanc.dicomweb_url
        seconds = store(url, instances, per_request=25)
        print(f"STOW, 25 instances per request:        {megabytes / seconds:8.0f} MB/s")
        for digest in (False, True):
            for _ in range(2):  # the first retrieve warms Orthanc's cache
                seconds, total, parts = retrieve(url, instances[0].study_uid, digest=digest)
            label = "WADO study, iter_parts" + (" + sha256" if digest else "")
            print(f"{label:<38} {total / 1e6 / seconds:8.0f} MB/s ({parts} parts)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"client peak RSS: {peak:.0f} MB (includes the generated study held in memory)")


if __name__ == "__main__":
    main()
