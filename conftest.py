# The same plugin an installed copy loads through its pytest11 entry point (pyproject.toml); named identically,
# so an editable install and this file do not register it twice.
pytest_plugins = ["dicomweb_conformance.pytest_plugin"]
