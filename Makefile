# vitreem: two commands matter — `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# The English catalogue is compiled from its .po at setup (Babel, pure Python: no gettext needed).
PO := vitreem/locale/en/LC_MESSAGES/django.po
MO := $(PO:.po=.mo)

.PHONY: setup demo test lint bench fuzz e2e clean browser messages

# Bytecode is written ahead: a process that may not write it (PYTHONDONTWRITEBYTECODE, a read-only
# install) otherwise compiles every module of vitreem from source at each start, ~0.3 s of a command.
setup: $(STAMP) $(MO)
	$(BIN)/python -m compileall -q config vitreem bench > /dev/null

# Re-install only when the lock or the project metadata changes (idempotent).
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel -q compile -l en -i $(PO) -o $(MO)

messages: $(MO)

# The browser tests need Chromium: find it (VITREEM_CHROMIUM, default /usr/bin/chromium), install
# Debian's package when root, or stop here with the command that fixes it (vitreem/testing/browser.py).
browser: setup
	$(BIN)/python -m vitreem.testing.browser

demo: setup
	$(BIN)/vitreem migrate --noinput
	$(BIN)/vitreem load_places
	$(BIN)/vitreem seed_demo --if-empty
	# The task worker (imports, exports, reports, case notices) runs beside the web server and stops with it.
	VITREEM_DEMO=1 $(BIN)/vitreem run_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	VITREEM_DEMO=1 $(BIN)/vitreem runserver 127.0.0.1:$(PORT)

test: setup browser
	$(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy config vitreem

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

# The long API fuzzing (tests/test_fuzz_api.py): VITREEM_FUZZ_EXAMPLES examples per operation and persona
# (`make test` runs 5), each persona stopped after a third of VITREEM_FUZZ_SECONDS; `timeout` is the hard stop.
FUZZ_EXAMPLES ?= 100
FUZZ_SECONDS ?= 2700
fuzz: setup
	VITREEM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) VITREEM_FUZZ_SECONDS=$(FUZZ_SECONDS) \
	timeout $$(( $(FUZZ_SECONDS) + 600 )) $(BIN)/pytest tests/test_fuzz_api.py -s -p no:logging $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info
