pytest_plugins = [
    "fixtures.plugin",
    "fixtures.interrupt",
    "fixtures.resources",
    "fixtures.stow_fixtures",
    "fixtures.retrieve_fixtures",
    "fixtures.metadata_fixtures",
    "fixtures.qido_fixtures",
    "fixtures.property_fixtures",
    "fixtures.azure_fixtures",
]
