# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: test test-slow reliability demo bench lint clean browser-deps

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# tests/test_browser.py drives Debian's Chromium, and Thai text needs a Thai font: installed
# here once (as root, as in CI, or with passwordless sudo); nothing to do when both are present.
BROWSER_PKGS := chromium fonts-thai-tlwg
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=th family 2>/dev/null | grep -q .; then \
	  exit 0; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "no apt-get here: install Chromium and a Thai font, or the browser tests are skipped"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && $(APT_INSTALL) $(BROWSER_PKGS); \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  sudo apt-get update -qq && sudo $(APT_INSTALL) $(BROWSER_PKGS); \
	else \
	  echo "not root: 'sudo apt-get install $(BROWSER_PKGS)' to run the browser tests"; \
	fi

# pytest exits 5 when it collects no test; that is not a failure of the code.
test: $(STAMP) browser-deps
	$(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(PYTEST_ARGS)

# The whole suite INCLUDING the slow crash, soak and load tests (about 15-20 minutes on two
# cores), each stress case recording what it tried into a fresh log; then docs/reliability.md
# is written from that log. RELIABILITY_MARKERS="not slow" gives the short run.
RELIABILITY_DIR := build/reliability
RELIABILITY_MARKERS ?= slow or not slow
reliability: $(STAMP)
	mkdir -p $(RELIABILITY_DIR)
	rm -f $(RELIABILITY_DIR)/log.jsonl $(RELIABILITY_DIR)/junit.xml
	P2PNET_RELIABILITY_LOG=$(CURDIR)/$(RELIABILITY_DIR)/log.jsonl $(PY) -m pytest -q \
	  -m "$(RELIABILITY_MARKERS)" --junitxml=$(RELIABILITY_DIR)/junit.xml $(PYTEST_ARGS); rc=$$?; \
	$(PY) docs/gen_reliability.py $(RELIABILITY_DIR)/log.jsonl --junit $(RELIABILITY_DIR)/junit.xml \
	  --command 'make reliability$(if $(subst slow or not slow,,$(RELIABILITY_MARKERS)), RELIABILITY_MARKERS="$(RELIABILITY_MARKERS)")$(if $(PYTEST_ARGS), PYTEST_ARGS="$(PYTEST_ARGS)")' \
	  || rc=$$?; exit $$rc

demo: $(STAMP)
	$(VENV)/bin/p2pnet demo

bench: $(STAMP)
	$(PY) bench/ingest.py

lint: $(STAMP)
	$(PY) -m pip install --quiet ruff mypy
	$(VENV)/bin/ruff check p2pnet tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info
