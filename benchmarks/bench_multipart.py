"""Throughput and peak memory of multipart/related encoding and decoding.

Run from the repository root:  python benchmarks/bench_multipart.py [--total-mb 200] [--part-mb 2]

Compares dicomweb_conformance.transport.multipart (streaming iter_parts, whole-body decode_related,
encode_related, iter_encode_related) with requests_toolbelt's MultipartDecoder
and the standard library's email BytesFeedParser.  Speed is the best of
--repeat timed runs; peak memory is measured in one extra run under tracemalloc
(allocations above what existed before the run, so the input body is excluded).
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from requests_toolbelt.multipart.decoder import MultipartDecoder

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dicomweb_conformance.transport.multipart import (
    boundary_of,
    encode_related,
    iter_encode_related,
)
from dicomweb_conformance.transport.multipart_decoder import decode_related, iter_parts

MB = 1_000_000


@dataclass(frozen=True)
class Result:
    name: str
    size: int
    seconds: float
    peak: int
    parts: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total-mb", type=float, default=200, help="size of the synthetic body (default 200)")
    parser.add_argument("--part-mb", type=float, default=2, help="size of each part (default 2)")
    parser.add_argument("--chunk-kib", type=int, default=64, help="chunk size fed to streaming parsers (default 64)")
    parser.add_argument("--email-mb", type=float, default=40, help="body size for the slow stdlib email parser")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method; the best is shown")
    return parser.parse_args()


def make_parts(total_mb: float, part_mb: float) -> list[bytes]:
    """Distinct pseudo-random parts built from one random block (random data is the worst case for find)."""
    part_size = int(part_mb * MB)
    block = os.urandom(part_size)
    count = max(1, round(total_mb / part_mb))
    return [index.to_bytes(4, "big") + block[4:] for index in range(count)]


def measure(name: str, size: int, run: Callable[[], int], repeat: int) -> Result:
    best = float("inf")
    parts = 0
    for _ in range(repeat):
        start = time.perf_counter()
        parts = run()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Result(name, size, best, peak, parts)


def chunks_of(body: bytes, chunk_size: int) -> Iterator[bytes]:
    """Fresh bytes objects, as a socket read or requests' iter_content would give."""
    for start in range(0, len(body), chunk_size):
        yield body[start : start + chunk_size]


def streaming(body: bytes, boundary: str, chunk_size: int) -> Callable[[], int]:
    return lambda: sum(1 for _ in iter_parts(chunks_of(body, chunk_size), boundary))


def whole_body(body: bytes, content_type: str) -> Callable[[], int]:
    return lambda: len(decode_related(body, content_type))


def toolbelt(body: bytes, content_type: str) -> Callable[[], int]:
    return lambda: len(MultipartDecoder(body, content_type).parts)


def stdlib_email(body: bytes, content_type: str, chunk_size: int) -> Callable[[], int]:
    def run() -> int:
        parser = email.parser.BytesFeedParser(policy=email.policy.HTTP)
        parser.feed(f"Content-Type: {content_type}\r\n\r\n".encode())
        for chunk in chunks_of(body, chunk_size):
            parser.feed(chunk)
        payload = parser.close().get_payload()
        assert isinstance(payload, list)
        return len(payload)

    return run


def encode_whole(parts: list[bytes], boundary: str) -> Callable[[], int]:
    return lambda: len(encode_related(parts, boundary=boundary)[0]) and len(parts)


def encode_streaming(parts: list[bytes], boundary: str) -> Callable[[], int]:
    def run() -> int:
        for _ in iter_encode_related(parts, boundary=boundary, chunk_size=1 << 20):
            pass
        return len(parts)

    return run


def print_table(results: list[Result]) -> None:
    header = f"{'method':<44} {'body MB':>8} {'parts':>6} {'seconds':>8} {'MB/s':>8} {'peak MB':>8}"
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.name:<44} {result.size / MB:>8.0f} {result.parts:>6} {result.seconds:>8.3f} "
            f"{result.size / MB / result.seconds:>8.0f} {result.peak / MB:>8.1f}"
        )


def main() -> None:
    args = parse_args()
    chunk_size = args.chunk_kib * 1024
    parts = make_parts(args.total_mb, args.part_mb)
    body, content_type = encode_related(parts)
    boundary = boundary_of(content_type)
    small_parts = parts[: max(1, round(args.email_mb / args.part_mb))]
    small_body, small_type = encode_related(small_parts, boundary=boundary)
    size, small = len(body), len(small_body)
    print(f"Python {sys.version.split()[0]}; {len(parts)} parts x {args.part_mb} MB; chunks {args.chunk_kib} KiB")
    results = [
        measure(f"iter_parts, {args.chunk_kib} KiB chunks", size, streaming(body, boundary, chunk_size), args.repeat),
        measure("decode_related, whole body", size, whole_body(body, content_type), args.repeat),
        measure("requests_toolbelt MultipartDecoder", size, toolbelt(body, content_type), args.repeat),
        measure(
            f"email BytesFeedParser, {args.chunk_kib} KiB chunks",
            small,
            stdlib_email(small_body, small_type, chunk_size),
            1,
        ),
        measure("encode_related (one bytes)", size, encode_whole(parts, boundary), args.repeat),
        measure("iter_encode_related, 1 MiB chunks", size, encode_streaming(parts, boundary), args.repeat),
    ]
    print_table(results)


if __name__ == "__main__":
    main()
