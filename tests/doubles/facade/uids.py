"""DICOM UID validation as the Azure DICOM service does it."""

from __future__ import annotations

import re

# Azure's UidValidation.cs: digits and dots, ending in a digit, at most 64 characters, leading
# zeros allowed. Its docs say "alphanumeric plus . and -": the reference (section 1.1, UID rules)
# says to follow the code.
_UID = re.compile(r"[0-9.]*[0-9]")
MAX_UID_LENGTH = 64


def is_valid_uid(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_UID_LENGTH and _UID.fullmatch(value) is not None
