"""Test doubles: the Azure facade over Orthanc and the tiny-pacs wrapper (not part of the tool)."""
