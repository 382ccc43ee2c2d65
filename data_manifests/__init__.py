"""Data manifests: what each domain's data is (generator, seeds, sizes, sha256, overlap checks)."""
