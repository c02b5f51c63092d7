import pytest

# The per-area fault tests are made in area_harness.py, a plain module: its asserts need rewriting to explain failures.
pytest.register_assert_rewrite("tests.faults.area_harness")
