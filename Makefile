# Les deux commandes du README : `make run` et `make test`. Tout le reste en découle.
VENV   ?= .venv
PYTHON ?= python3
FLASK  := FLASK_APP=wsgi $(VENV)/bin/flask
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: lock install chromium run test test-rapide lint diagram worker planificateur clean bench bench-croissance code-demo

# Les versions exactes et leurs empreintes viennent de requirements.lock (make lock) : pip refuse tout paquet
# dont l'empreinte diffère. Le projet lui-même s'installe ensuite, sans rien tirer d'autre.
$(VENV)/.installe: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

# Après un changement de version dans pyproject.toml : recalcule le verrou (toutes plateformes, Python ≥ 3.11).
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 \
	  --quiet -o requirements.lock

node_modules/.installe: package.json package-lock.json .npmrc
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Chromium de Debian pour les tests dans le navigateur (Playwright le pilote, sans rien télécharger d'autre).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installation de Chromium (paquet Debian)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

install: $(VENV)/.installe node_modules/.installe

# Les liens des courriels mènent au port servi (make run PORT=5077), sauf DAUPHIN_BASE_URL donnée.
run: install
	$(FLASK) db upgrade
	$(FLASK) seed demo
	DAUPHIN_BASE_URL=$${DAUPHIN_BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

# Le code de double authentification du moment pour admin@demo.dauphin.fr (secret publié, démonstration seule)
code-demo: install
	@$(VENV)/bin/python -c "import pyotp; from dauphin.seeds.demo import SECRET_TOTP_DEMO as s; print(pyotp.TOTP(s).now())"

# Toute la suite, sur SQLite, un worker par cœur (pytest-xdist) et une base par worker. Sur PostgreSQL :
# DAUPHIN_TEST_DATABASE_URL=postgresql+psycopg://… make test (ou .ci/run, qui enchaîne les deux).
PYTEST_N ?= auto
# Les modules de test réécrits par pytest (assertions) sont gardés dans __pycache__/ d'une exécution à
# l'autre, même si l'environnement demande de ne pas écrire de bytecode : la collecte passe de 7 à 3 s.
test test-rapide: export PYTHONDONTWRITEBYTECODE =
test: install chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -n $(PYTEST_N)

# La boucle courte du développeur : ni navigateur, ni gros volumes, ni longues séries de propriétés.
test-rapide: install
	$(VENV)/bin/python -m pytest -n $(PYTEST_N) -m "not navigateur and not volume and not proprietes"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

diagram: install
	$(FLASK) workflow diagram

worker: install
	$(VENV)/bin/rq worker --url "$$DAUPHIN_REDIS_URL" dauphin

# Reprise des courriels en attente chaque minute, des récépissés toutes les 5 minutes, purge de la trace des
# lectures chaque nuit (un seul processus ; voir README, « Production »).
planificateur: install
	$(VENV)/bin/rq cron --url "$$DAUPHIN_REDIS_URL" dauphin.planification

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache

# Banc HTTP national (README, « Mesures ») : base neuve, `flask seed scale`, gunicorn, scénarios, rafale.
# make bench REQUESTS=25000 ; make bench-croissance (25 000 puis 250 000 : rapport de croissance).
REQUESTS ?= 250000
BENCH_ARGS ?=
bench: install
	$(VENV)/bin/python -m bench.banc --demandes $(REQUESTS) $(BENCH_ARGS)

bench-croissance: install
	$(VENV)/bin/python -m bench.banc --demandes 25000 $(BENCH_ARGS)
	$(VENV)/bin/python -m bench.banc --demandes 250000 $(BENCH_ARGS)
