# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: test test-slow demo bench lint clean browser-deps

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
