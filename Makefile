# 盘图 — two entry points for a fresh clone:
#   make run    install everything, migrate, load demo data, serve on http://127.0.0.1:5000 (SQLite)
#   make test   install everything (incl. Chromium for browser tests) and run the whole suite
# TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/DB make test   runs it on PostgreSQL.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

APT_RUNTIME := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
APT_TEST := chromium poppler-utils

CATALOGS := $(patsubst %.po,%.mo,$(wildcard crm/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test install install-test system-deps system-deps-test translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: system-deps $(STAMP) $(CATALOGS)

install-test: system-deps-test $(STAMP) $(CATALOGS)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -f -i $< -o $@

# After changing UI strings: refresh the template and the catalogs, then translate the new entries.
translations: $(STAMP)
	$(BIN)/pybabel extract -F crm/translations/babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o crm/translations/messages.pot .
	$(BIN)/pybabel update -i crm/translations/messages.pot -d crm/translations --no-fuzzy-matching

# Debian packages: installed when missing and we are allowed to (root, or sudo without a password).
define APT_ENSURE
missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
if [ -z "$$missing" ]; then exit 0; fi; \
if ! command -v apt-get >/dev/null; then echo "Please install these system packages:$$missing" >&2; exit 1; fi; \
if [ "$$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
else echo "Missing system packages:$$missing. Run: sudo apt-get install -y$$missing" >&2; exit 1; fi; \
echo "Installing system packages:$$missing"; $$SUDO apt-get update -qq; \
DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null
endef

system-deps:
	@$(call APT_ENSURE,$(APT_RUNTIME))

system-deps-test:
	@$(call APT_ENSURE,$(APT_RUNTIME) $(APT_TEST))

run: install
	PANTU_ENV=development $(BIN)/flask db upgrade
	PANTU_ENV=development $(BIN)/flask crm seed-demo
	PANTU_ENV=development $(BIN)/flask run --host 127.0.0.1 --port 5000

test: install-test
	$(BIN)/ruff check crm tests benchmarks wsgi.py migrations/env.py
	$(BIN)/ruff format --check crm tests benchmarks wsgi.py migrations/env.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
