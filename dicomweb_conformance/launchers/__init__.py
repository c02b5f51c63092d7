"""Local servers the suite or its tests start: Orthanc (two Debian generations), the Debian root."""
