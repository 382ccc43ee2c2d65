"""Everything after evaluation: model cards, data manifests, GGUF export and the Hugging Face Hub."""
