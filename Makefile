# Two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint bench soak fuzz crash scaleout format openapi clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the gateway and its test tools into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/gateway db upgrade
	$(BIN)/gateway demo
	$(BIN)/gateway serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The proof runs (README, "Proof"). Options: make bench QUICK=1 (1k vs 100k, 100k-leaf log),
# ONLY="name ..." (some benchmarks), SCALE=N (the large province of the scale benchmark),
# DATABASE_URL=... (the inquiry benchmark on PostgreSQL too, 1, 2 and 4 processes; needs wrk);
# make soak DURATION=seconds (it runs make fuzz first: EXAMPLES=n per operation, role and mode,
# SCENARIOS=n walks of the OpenAPI links, SEED=n repeats a run), make crash ROUNDS=n;
# DATABASE_URL=... (a fresh schema on PostgreSQL) for soak, crash and scaleout; REDIS_URL=...
# for scaleout (it is emptied first), WORKERS=N (each of its two gateways with N workers).
BENCH_ARGS := $(if $(QUICK),--quick) $(foreach name,$(ONLY),--only $(name))
PROOF_DB := $(if $(DATABASE_URL),--database-url $(DATABASE_URL))

bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "make bench needs wrk, the HTTP load generator: apt-get install wrk" >&2; exit 1; }
	$(if $(SCALE),BENCH_SCALE_LARGE=$(SCALE)) $(BIN)/python -m bench $(BENCH_ARGS) $(PROOF_DB)

soak: $(STAMP) fuzz
	$(BIN)/python -m bench.soak --duration $(or $(DURATION),180) $(PROOF_DB)

fuzz: $(STAMP)
	GATEWAY_TEST_FUZZ_EXAMPLES=$(or $(EXAMPLES),5) GATEWAY_TEST_FUZZ_SCENARIOS=$(or $(SCENARIOS),100) \
	$(if $(SEED),GATEWAY_TEST_FUZZ_SEED=$(SEED)) $(BIN)/pytest -s tests/gateway/proof/test_fuzz.py

crash: $(STAMP)
	$(BIN)/python -m bench.crash --rounds $(or $(ROUNDS),10) $(PROOF_DB)

scaleout: $(STAMP)
	$(BIN)/python -m bench.scaleout $(PROOF_DB) $(if $(REDIS_URL),--redis-url $(REDIS_URL)) \
	$(if $(WORKERS),--gateway-workers $(WORKERS))

openapi: $(STAMP)
	$(BIN)/gateway openapi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
