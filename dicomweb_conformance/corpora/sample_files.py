"""The files that drive the per-file scenarios: the user's folder (--dicomweb-samples), else the built-in corpus.

Collection only lists them (a path or a built-in name each); a file is read when its scenarios start and dropped
when they end, so a folder of any size is never held in memory at once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from dicomweb_conformance.dicom.samples import SampleInstance, instance_from_dataset, remap_uids, stamp_run
from dicomweb_conformance.dicom.uids import UidRemapper

_PREAMBLE = b"\x00" * 128
_MAGIC = b"DICM"
# PS3.10 7.1 without the preamble some writers leave out: the file starts with the magic. A raw dataset (no File
# Meta at all) starts with a group 0008 element: (0008,0005) or (0008,0016) in little endian.
_RAW_DATASET_STARTS = (b"\x08\x00", b"\x02\x00")


@dataclass(frozen=True)
class SampleSource:
    """One file of the run's sample data: `case_id` is its test id (its path relative to the folder)."""

    case_id: str
    transfer_syntax: str  # as stored; target files declare deviations per syntax (config/deviations.py)
    path: Path | None = None  # a user's file
    built_in: str | None = None  # or the name of a built-in corpus file

    def read(self) -> bytes:
        if self.path is not None:
            return self.path.read_bytes()
        from dicomweb_conformance.corpora.compressed import built_in_file

        return built_in_file(str(self.built_in)).data


@dataclass(frozen=True)
class Discovery:
    sources: list[SampleSource]
    skipped: list[str]  # one note per file that is not DICOM


def discover(directory: Path) -> Discovery:
    """Every DICOM file under `directory`, recursively, in path order; the others skipped with a note."""
    sources: list[SampleSource] = []
    skipped: list[str] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        found = _inspect(path)
        if isinstance(found, str):
            skipped.append(f"{relative}: {found}")
        else:
            sources.append(SampleSource(relative, _syntax_of(found), path=path))
    return Discovery(sources, skipped)


def built_in_sources() -> list[SampleSource]:
    from dicomweb_conformance.corpora.compressed import built_in_names

    return [SampleSource(name, syntax, built_in=name) for name, syntax in built_in_names()]


def _syntax_of(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""


_IDENTIFYING = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")


def _inspect(path: Path) -> Dataset | str:
    """The file's dataset up to its pixel data, or why it cannot be a case (not DICOM, not storable)."""
    with path.open("rb") as stream:
        head = stream.read(132)
    if head[128:132] != _MAGIC and head[:4] != _MAGIC and head[:2] not in _RAW_DATASET_STARTS:
        return "not a DICOM file (no DICM magic, no dataset at its start)"
    try:
        # A file without its preamble is rare and read whole; any other stops before the pixel data.
        ds = parse(path.read_bytes()) if head[:4] == _MAGIC else dcmread(path, force=True, stop_before_pixels=True)
    except (InvalidDicomError, ValueError, EOFError, OSError, KeyError) as error:
        return f"not readable as DICOM: {error}"
    missing = [k for k in _IDENTIFYING if k not in ds]
    return f"DICOM, but without {', '.join(missing)}: not storable over DICOMweb" if missing else ds


def parse(data: bytes) -> Dataset:
    """A file's dataset, with or without the PS3.10 preamble."""
    if data[:4] == _MAGIC:
        data = _PREAMBLE + data
    return dcmread(io.BytesIO(data), force=True)


def prepare(
    source: SampleSource, run_id: str, *, keep_uids: bool, remapper: UidRemapper | None = None
) -> SampleInstance:
    """The file as this run stores it: UIDs remapped (unless kept), patient data stamped with the run id, in the
    file's own transfer syntax."""
    ds = parse(source.read())
    missing = [k for k in _IDENTIFYING if k not in ds]
    if missing:
        raise SampleFileError(f"{source.case_id}: no {', '.join(missing)}: it cannot be stored over DICOMweb")
    if not keep_uids:
        remap_uids(ds, remapper or UidRemapper())
    stamp_run(ds, run_id)
    return instance_from_dataset(source.case_id, ds, reuse=True)


class SampleFileError(ValueError):
    """A file of the user's folder that no server could store (not a verdict on the server)."""
