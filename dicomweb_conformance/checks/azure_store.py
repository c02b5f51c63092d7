"""Azure v2's 202 for a store with warnings only: when it counts as a successful store, and what it must then prove.

The corpus fixtures store with `store_accepted`: 200, or this 202 (azure profile, API v2), after which every
instance must be listed and retrievable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import requests

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.store import check_retrievable
from dicomweb_conformance.config.catalog import LATEST_API_VERSION
from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.dicom.samples import SampleInstance

if TYPE_CHECKING:
    from dicomweb_conformance.transport.store import Dicomweb

WARNING_REASON = "00081196"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"


def stored_with_warnings(response: requests.Response, target: TargetConfig) -> bool:
    """A 202 that the Azure DICOM service gives, from API v2 on, when every instance was stored and some carry a
    WarningReason (implicit VR input: 45063; attributes that failed validation and were dropped from the index: 1).

    microsoft/dicom-server eeefbe4d7: src/Microsoft.Health.Dicom.Core/Features/Store/StoreService.cs
    (`returnWarning202 = ...Version is >= 2`), StoreResponseBuilder.cs BuildResponse (PartialSuccess when
    returnWarning202 and any ReferencedSOPSequence item has a WarningReason), WarningReasonCodes.cs; reference 1.1.
    Anything else answering 202 (a failure among the instances, the standard profile, API v1) is not this.
    """
    if response.status_code != 202 or target.profile != "azure" or (target.api_version or LATEST_API_VERSION) == "v1":
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    failed = (body.get(FAILED_SOP_SEQUENCE) or {}).get("Value") or []
    referenced = (body.get(REFERENCED_SOP_SEQUENCE) or {}).get("Value") or []
    return not failed and any(isinstance(item, dict) and WARNING_REASON in item for item in referenced)


def store_accepted(dicomweb: Dicomweb, instances: Sequence[SampleInstance], response: requests.Response) -> bool:
    """The store of `instances` succeeded: 200, or (azure profile, v2) a 202 with warnings only. A 202 proves
    nothing by itself, so each instance must then be listed in ReferencedSOPSequence and come back unchanged
    from WADO (a ConformanceFailure, or data loss, otherwise)."""
    if response.status_code == 200:
        return True
    if not stored_with_warnings(response, dicomweb.client.target):
        return False
    referenced = response.json()[REFERENCED_SOP_SEQUENCE]["Value"]
    listed = {str((item.get("00081155") or {}).get("Value", [""])[0]) for item in referenced if isinstance(item, dict)}
    missing = sorted(i.name for i in instances if i.sop_instance_uid not in listed)
    if missing:
        raise fail(
            "a 202 with warnings does not list every instance in ReferencedSOPSequence",
            expected="every instance sent",
            actual=f"missing {missing}",
            response=response,
        )
    check_retrievable(dicomweb.client, instances, "after a 202 with warnings")
    return True
