# The two commands of the README: `make book` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HASH   := $(shell $(PYTHON) -c "import hashlib;print(hashlib.md5(open('pyproject.toml','rb').read()).hexdigest()[:10])")
STAMP  := $(VENV)/.installed-book-$(HASH)
TSTAMP := $(VENV)/.installed-test-$(HASH)
NBVAL  := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: book test quick lab lessons browser clean

# The book, JupyterLab and the instructor's tools need .[book,lab,instructor]; the tests add .[test] (torch, scipy, nbval, selenium).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[book,lab,instructor]'
	$(PY) -c "import matplotlib.pyplot"   # build matplotlib's font cache once, not inside a lesson
	rm -f $(VENV)/.installed-book-* && touch $@

$(TSTAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-test-* && touch $@

## make book: build the HTML book (warnings are errors)
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

## make test: every test (reference library, autograder, nbval on every lesson, book build, browser)
test: $(TSTAMP) browser
	$(PY) -m pytest $(NBVAL) -n 2 --dist loadfile $(PYTEST_ARGS)

## make quick: the fast loop (about a minute on 2 idle cores): every test but the book, the browser,
## nbval, the portability matrix and those marked slow (mark a test over ~10 s @pytest.mark.slow)
quick: $(TSTAMP)
	$(PY) -m pytest -m "not book and not browser and not slow" -n 2 --dist loadfile $(PYTEST_ARGS)

## make lab: open the lessons in JupyterLab (as root, e.g. in a container, it adds --allow-root)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) lessons/

## make lessons: re-execute every lesson in place (after editing one)
lessons: $(STAMP)
	$(PY) -m autograder sync-lessons
	for nb in lessons/*.ipynb; do \
	  $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.record_timing=False "$$nb" || exit 1; done

## make browser: on CI, install Chromium for the browser test (Debian packages)
browser:
	@if [ -n "$$CI" ] && [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; fi

clean:
	rm -rf _build .pytest_cache
