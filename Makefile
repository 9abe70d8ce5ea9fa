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

# The data the tests and notebooks use: $PRUNELIB_DATA, else the shared copy beside the repo, else a small
# synthetic ImageNette generated on the fly (so the suite also passes on a machine without the data).
SHARED_DATA := $(abspath ../shared/data/imagenette2-224)
SYNTHETIC   := $(CURDIR)/.cache/synthetic-imagenette
PRUNELIB_DATA ?= $(if $(wildcard $(SHARED_DATA)/val),$(SHARED_DATA),$(SYNTHETIC))
export PRUNELIB_DATA

## make test: the whole suite (unit tests, notebooks with nbval, the book with -W, the browser test)
test: $(STAMP)
	@test -d "$(PRUNELIB_DATA)" || $(PY) -c "from prunelib.synthetic import make_imagenette; \
	    make_imagenette('$(SYNTHETIC)', n_train=12, n_val=12, size=64)"
	@echo "data: $(PRUNELIB_DATA)"
	$(PY) -m pytest tests notebooks --nbval-lax

## make book: render the book from the committed executed notebooks into _build/html
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W --keep-going

## make smoke: the whole pipeline on tiny data (a few minutes on 2 cores)
smoke: $(STAMP)
	$(PY) -m prunelib reproduce --profile smoke
