"""What a check asserts: one module per service, each raising ConformanceFailure with the exchange."""
