"""The zoo's recipes (YAML), shipped as package data: one file per entry, recipes/<domain>/<entry>.yaml for
the headline entries and recipes/<domain>/ablations/<entry>.yaml for the ablations."""
