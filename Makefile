# Two commands: `make demo` runs everything with Guiyang demo data; `make test` runs every test.
PY := .venv/bin/python

.PHONY: setup demo test lint bench migrate

setup:
	bash scripts/setup.sh

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo
	$(PY) manage.py collectstatic --noinput -v 0
	bash scripts/run.sh

test: export CACHE_PREFIX ?= shehui-test
test: export REDIS_URL ?= redis://127.0.0.1:6379/15
test:
	bash scripts/setup.sh --test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	.venv/bin/pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

bench: migrate
	$(PY) manage.py load_demo
	$(PY) bench/locate.py
	$(PY) bench/route.py
	$(PY) bench/tiles.py
	$(PY) bench/hotline.py
	$(PY) bench/intake.py
