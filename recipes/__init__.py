"""The zoo's recipes (YAML), shipped as package data: one file per entry, recipes/<domain>/<entry>.yaml."""
