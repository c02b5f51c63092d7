"""The DICOMweb conformance suite as one installable package.

The repository keeps the card's folders at its top level (fixtures/, suites/, targets/); this package reaches them
through symbolic links, so an installed copy and a clone import the same modules under the same names.

PYTEST_DONT_REWRITE: the console command imports this package before pytest starts (nothing here asserts).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dicomweb-conformance")
except PackageNotFoundError:  # a clone that was never installed
    __version__ = "0+unknown"
