"""Architecture configs (config.json) of Hub-only bases, so dry runs and estimates work offline."""
