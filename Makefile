# Two commands for a fresh machine: `make run` (the app on the embedded default, with demo data)
# and `make test` (the whole suite). Both install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run test install system-deps lint translations screenshot

$(BIN)/hotline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/hotline

# Debian's Chromium and a CJK font for the browser tests (never a browser download).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wenquanyi; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei; \
	  else echo "browser tests need: sudo apt-get install chromium fonts-wqy-microhei"; fi; fi

run: install
	$(BIN)/hotline demo
	$(BIN)/hotline run --port $(PORT)

test: install system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --project hotline -o hotline/translations/messages.pot .
	$(BIN)/pybabel update -i hotline/translations/messages.pot -d hotline/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d hotline/translations

screenshot: install system-deps
	$(BIN)/python scripts/screenshots.py docs/screenshots
