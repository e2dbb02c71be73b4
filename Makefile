# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export MPLBACKEND := Agg

.PHONY: demo test bench lint gallery clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/optiviz run configs/quickstart.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check optiviz tests benchmarks docs
	$(BIN)/ruff format --check optiviz tests benchmarks docs
	$(BIN)/mypy

gallery: $(STAMP)
	$(BIN)/python docs/make_gallery.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
