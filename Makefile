# Memberhub: `make run` starts everything on embedded defaults; `make test` runs the checks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PY := $(BIN)/python
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: install run test lint migrate seed worker beat web bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --members $${SEED_MEMBERS:-2000}

run: seed
	$(PY) manage.py compilemessages --ignore=.venv -v 0 2>/dev/null || true
	$(PY) manage.py ensure_operator
	$(PY) scripts/run_all.py

web: install
	$(PY) manage.py runserver $${PORT:-8000}

worker: install
	$(BIN)/celery -A config worker -l info

beat: install
	$(BIN)/celery -A config beat -l info

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -q $(PYTEST_ARGS)

bench: install
	$(PY) bench/orders.py
	$(PY) bench/tiers.py

clean:
	rm -rf $(VENV) var/broker var/test-broker var/static
