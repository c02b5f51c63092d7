pytest_plugins = ["fixtures.plugin", "fixtures.resources"]
