"""The suite's pytest plugin: the `pytest11` entry point of an installed copy, and what conftest.py loads in a clone.

Loaded into every pytest run of an environment that has the package; it stays inert unless the run collects
the suites (dicomweb_conformance/plugin/options.py, is_conformance_run).
"""

pytest_plugins = [
    "dicomweb_conformance.plugin.forked_workers",  # first: it starts the xdist workers' zygote early
    "dicomweb_conformance.plugin.gate",  # first: plugin.report imports it
    "dicomweb_conformance.plugin.options",
    "dicomweb_conformance.plugin.finish",
    "dicomweb_conformance.plugin.session",
    "dicomweb_conformance.plugin.outcomes",
    "dicomweb_conformance.plugin.failure_text",
    "dicomweb_conformance.plugin.interrupt",
    "dicomweb_conformance.fixtures.resources",
    "dicomweb_conformance.fixtures.stow_fixtures",
    "dicomweb_conformance.fixtures.retrieve_fixtures",
    "dicomweb_conformance.fixtures.metadata_fixtures",
    "dicomweb_conformance.fixtures.qido_fixtures",
    "dicomweb_conformance.fixtures.property_fixtures",
    "dicomweb_conformance.fixtures.azure_fixtures",
    "dicomweb_conformance.fixtures.sample_fixtures",
    "dicomweb_conformance.fixtures.client_fixtures",
    "dicomweb_conformance.fixtures.client_cornerstone_fixtures",
    "dicomweb_conformance.fixtures.client_ohif_fixtures",
    "dicomweb_conformance.fixtures.client_slicer_fixtures",
    "dicomweb_conformance.fixtures.client_cors_fixtures",
    "dicomweb_conformance.plugin.distribution",  # after the fixtures: it imports sample_fixtures
    "dicomweb_conformance.plugin.arguments",  # last: its tryfirst pytest_configure runs before any other
]
