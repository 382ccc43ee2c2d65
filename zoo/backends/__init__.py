"""Generation backends: transformers + torch (with tool calls during decoding) and llama.cpp on a GGUF."""
