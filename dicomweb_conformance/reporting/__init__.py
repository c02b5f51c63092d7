"""The conformance report, the machine-readable results, the baseline gate and the generated statement."""
