# Les deux commandes du README : `make run` et `make test`. Tout le reste en découle.
VENV   ?= .venv
PYTHON ?= python3
FLASK  := FLASK_APP=wsgi $(VENV)/bin/flask
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test lint diagram worker clean

$(VENV)/.installe: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installe: package.json package-lock.json .npmrc
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

install: $(VENV)/.installe node_modules/.installe

run: install
	$(FLASK) db upgrade
	$(FLASK) seed demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

diagram: install
	$(FLASK) workflow diagram

worker: install
	$(VENV)/bin/rq worker --url "$$DAUPHIN_REDIS_URL" dauphin

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
