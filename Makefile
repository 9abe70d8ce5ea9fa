# Two commands for a newcomer: `make book` and `make test`. Each creates .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test book reproduce smoke clean-book

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

## make test: the whole suite (unit tests, notebooks with nbval, the book with -W, the browser test)
test: $(STAMP)
	$(PY) -m pytest tests

## make book: render the book from the committed executed notebooks into _build/html
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W --keep-going

## make smoke: the whole pipeline on tiny data (a few minutes on 2 cores)
smoke: $(STAMP)
	$(PY) -m prunelib reproduce --profile smoke
