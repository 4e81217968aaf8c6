# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PROD_ENV := DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=check-deploy-dummy-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG DATABASE_URL=postgres://check@127.0.0.1:5432/check ALLOWED_HOSTS=urakata.example CELERY_BROKER_URL=redis://127.0.0.1:6379/0 REDIS_URL=redis://127.0.0.1:6379/1 SITE_URL=https://urakata.example INVOICE_ISSUER_NAME=check INVOICE_REGISTRATION_NUMBER=T1234567890123

.PHONY: run test test-sqlite test-moved-clock lint check fmt lock messages chromium fonts

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

## run: everything on one machine (SQLite, serverless broker): web, worker, beat. Ctrl-C stops all.
run: $(VENV)/.installed-run fonts
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py bootstrap_admin
	$(BIN)/honcho start -f Procfile.dev

## test: the whole suite against PostgreSQL and Redis on 127.0.0.1 (fails loudly without them).
test: $(VENV)/.installed-dev chromium
	$(BIN)/pytest

## test-sqlite: the suite on the embedded default's database (SQLite, in memory), every test
## but those marked postgresql("why"); Redis is still needed (the tests' cache and broker).
test-sqlite: $(VENV)/.installed-dev chromium
	DATABASE_URL=sqlite://:memory: $(BIN)/pytest

## test-moved-clock: the suite with every test started at MOVED_CLOCK (the clock ticking, in
## the tests and in every process they start): a Saturday night JST in the year-end holidays,
## two years ahead, a year boundary two days later. Catches tests that depend on the day.
MOVED_CLOCK ?= 2028-12-30T23:45:00+09:00
test-moved-clock: $(VENV)/.installed-dev chromium
	URAKATA_TEST_CLOCK=$(MOVED_CLOCK) $(BIN)/pytest

## chromium: Debian's Chromium and a Japanese font for the browser tests (Playwright drives
## it; it never downloads a browser of its own).
chromium: fonts
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests (needs root)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## fonts: Debian's IPA fonts: the invoice PDFs embed IPA Gothic (leads/invoices/pdf.py), the
## browser tests render Japanese with them.
IPA_GOTHIC := /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf
fonts:
	@test -f $(IPA_GOTHIC) || { \
		echo "Installing Debian's fonts-ipafont-gothic and fonts-ipafont-mincho (needs root)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic fonts-ipafont-mincho; }

## lint: every static check CI runs.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	VAR_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run
	$(PROD_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	VAR_DIR=$$(mktemp -d) $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(PY) scripts/check_messages.py

## check: lint, then the tests.
check: lint test

fmt: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## lock: re-pin requirements*.txt from requirements*.in.
lock: $(VENV)/.installed-dev
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url -o requirements-dev.txt requirements-dev.in

## messages: refresh the ja catalogue from the code, then compile it (the .mo is committed).
messages: $(VENV)/.installed-dev
	$(PY) manage.py makemessages --locale ja --no-obsolete --add-location file --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*'
	$(PY) manage.py compilemessages --locale ja --ignore '.venv/*'
