"""The pytest plugin: options, session, outcomes, cleanup, reports, Ctrl-C."""
