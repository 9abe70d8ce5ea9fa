# Two commands for a newcomer: `make book` and `make test`. Each creates .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test test-fresh book reproduce smoke clean-book

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

# $(call make_synthetic,FOLDER): the synthetic ImageNette of a machine without the data (prunelib.synthetic.SMALL:
# 64 px, 12 + 12 per class), generated once
make_synthetic = $(abspath $(PY)) -c "from prunelib.synthetic import ensure_imagenette; ensure_imagenette('$(1)')"

## the job the notebooks draw under nbval with their default parameters (profile smoke, seed 0, global pruning): the
## sweep computes it (on the local executor, also where SLURM is installed); the notebooks only read it
NOTEBOOKS_JOB = -m prunelib sweep --profile smoke --seeds 0 --regimes global --executor local

## make test: the whole suite (unit tests, notebooks with nbval, the book with -W, the browser test), on every core:
## TEST_WORKERS pytest-xdist workers (auto: one per core), a test file (and the notebooks together) to one worker
## (tests/conftest.py), each worker with 2 torch threads that sleep when idle (OMP_WAIT_POLICY=PASSIVE), so that a
## worker busy in Python leaves its core to the other's torch. TEST_WORKERS=0: one process, torch's default threads.
TEST_WORKERS ?= auto
VALID_WORKERS = $(filter auto,$(TEST_WORKERS))$(shell echo '$(TEST_WORKERS)' | grep -Ex '[0-9]+')
test: $(STAMP)
	$(if $(VALID_WORKERS),,$(error TEST_WORKERS must be auto or a whole number of pytest-xdist workers \
	  (0: one process), got '$(TEST_WORKERS)'))
	@test -d "$(PRUNELIB_DATA)" || $(call make_synthetic,$(SYNTHETIC))
	@echo "data: $(PRUNELIB_DATA)"
	$(PY) $(NOTEBOOKS_JOB)
	$(if $(filter 0,$(TEST_WORKERS)),,OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE) \
	  $(PY) -m pytest -n $(TEST_WORKERS) tests notebooks --nbval-lax

## make test-fresh: what `make test` meets on a fresh clone with no ../shared beside it, in a minute or two: a clone
## of the last commit in a temporary folder, its synthetic ImageNette, the tests that read data or the shared folder
## and the notebooks that read the images (the others only read these notebooks' results)
FRESH_TESTS := tests/test_data.py tests/test_metrics_aopc.py tests/test_metrics_gini.py tests/test_reference.py \
	notebooks/01_training.ipynb notebooks/02_saliency.ipynb notebooks/04_concepts.ipynb
test-fresh: $(STAMP)
	@fresh=$$(mktemp -d) && trap 'rm -rf "$$fresh"' EXIT && \
	git clone -q . "$$fresh/repo" && cd "$$fresh/repo" && \
	export PYTHONPATH="$$fresh/repo" PRUNELIB_DATA="$$fresh/repo/.cache/synthetic-imagenette" && \
	$(call make_synthetic,$$PRUNELIB_DATA) && \
	$(abspath $(PY)) $(NOTEBOOKS_JOB) && \
	$(abspath $(PY)) -m pytest $(FRESH_TESTS) --nbval-lax -p no:cacheprovider

## make book: render the book from the committed executed notebooks into _build/html. A change to book/_static
## alone (the CSS) outdates no page, so Sphinx would keep the old copy: then every page is rebuilt (--all).
BOOK_STATIC := book/_static
BOOK_INDEX  := _build/html/index.html
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W --keep-going \
	  $(if $(shell find $(BOOK_STATIC) -newer $(BOOK_INDEX) 2>/dev/null | head -1),--all)

## make smoke: the whole pipeline on tiny data (a few minutes on 2 cores): the data of `make test`
smoke: $(STAMP)
	@test -d "$(PRUNELIB_DATA)" || $(call make_synthetic,$(SYNTHETIC))
	@echo "data: $(PRUNELIB_DATA)"
	$(PY) -m prunelib reproduce --profile smoke
