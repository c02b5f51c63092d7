"""DICOM itself: UIDs, Part 10 files, DICOM JSON, the sample instances."""
