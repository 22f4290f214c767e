# Quick start: `make demo` runs the main job on local containers; `make test` runs every check.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export HARNESS_STATE := $(CURDIR)/.cache/harness

.PHONY: demo test venv prepare lint units sanity build molecule clean

$(VENV)/.installed: requirements/python.txt requirements/constraints.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements/python.txt -c requirements/constraints.txt
	touch $@

venv: $(VENV)/.installed

prepare: venv
	tests/harness/prepare.sh

test: prepare
	tests/harness/run_suite.sh

lint units sanity build: prepare
	SCENARIOS=none tests/harness/run_suite.sh

molecule: prepare
	tests/harness/run_suite.sh

demo: prepare
	tests/harness/demo.sh

clean:
	-tests/harness/demo.sh down
	rm -rf .cache/tree .cache/collections $(HARNESS_STATE)/build $(HARNESS_STATE)/packaged
