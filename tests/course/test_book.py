"""The book: it builds with warnings as errors, is self-contained, and works in a real browser.

The build goes to a temporary folder (its own execution cache, so the lessons are
executed from scratch, as on a fresh clone). The browser test serves the HTML on
127.0.0.1 and drives Debian's Chromium with Selenium; it is skipped only where no
Chromium is installed (``make test`` installs it on CI). On every page: no MathJax error
box, no sideways scrolling at 1280 px or on a 390 px phone, no axe-core violation of impact
serious or critical but the theme's own (axe-core from npm, installed into the test's own
temporary folder; skipped where npm is absent).
"""
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
PAGES = [TOC["root"]] + [c["file"] for part in TOC["parts"] for c in part["chapters"]]   # every page of the book

pytestmark = pytest.mark.book


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert not re.search(r": WARNING: ", log), log[-6000:]     # Sphinx's warnings (not the kernel's chatter)
    return out / "_build" / "html"


@pytest.mark.parametrize("page", PAGES)
def test_page_is_built(html, page):
    assert (html / f"{page}.html").is_file()


def test_book_is_self_contained(html):
    """No page loads anything from the network (offline MathJax, no CDN)."""
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', text)
        assert external == [], f"{page.relative_to(html)} loads {external}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_shows_math_figures_and_folded_solutions(html, chapter):
    text = (html / "lessons" / f"{chapter}.html").read_text(encoding="utf-8")
    assert text.count('class="math') >= 3, "too little math"
    assert len(re.findall(r'<img[^>]+src="[^"]+\.png"', text)) >= 2, "too few figures"
    folded = re.findall(r'<div class="dropdown admonition">\s*<p class="admonition-title">Reference solution(.*?)</div>\s*</div>\s*</div>',
                        text, re.S)
    assert folded, "no folded reference solution"
    assert all('<span class="k">def</span>' in f for f in folded), "a folded solution holds no code"
    assert not any('class="sd"' in f for f in folded), "a folded solution repeats the stub's docstring"
    assert "NotImplementedError" in text, "the exercise stubs are not shown"
    assert "glossary.html#term-" in text, "the chapter links no term of the glossary"
    plain = re.sub(r"<[^>]+>", "", text)
    assert "= check(" in plain and "not attempted yet" in plain, "the reader is not shown what a check says"


def test_chapters_are_numbered(html):
    """The sidebar and the titles number the chapters ("3. Stochastic ..."), as the prose does
    ("chapter 3"), and no link reads "chapter <title>": prose links to a chapter by its number."""
    for number, chapter in enumerate(CHAPTERS, start=1):
        assert int(chapter[:2]) == number, f"{chapter} is not chapter {number}"
        text = (html / "lessons" / f"{chapter}.html").read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
        assert title.startswith(f"{number}. "), title
        assert re.search(rf'<h1><span class="section-number">{number}\. </span>', text), "the title is not numbered"
        sidebar = [re.sub(r"<[^>]+>", "", item).strip()
                   for item in re.findall(r'<li class="toctree-l1[^"]*"><a [^>]*>(.*?)</a>', text, re.S)]
        numbers = [int(m.group(1)) for m in map(re.compile(r"(\d+)\. ").match, sidebar) if m]
        assert numbers == list(range(1, len(CHAPTERS) + 1)), sidebar
    for page in html.rglob("*.html"):
        text = re.sub(r"\s+", " ", page.read_text(encoding="utf-8"))
        titled = re.findall(r"[Cc]hapters? <a [^>]*><span class=\"(?:doc|std std-doc|std std-ref)\">([^<]*)</span>", text)
        assert titled == [], f"{page.relative_to(html)}: 'chapter' followed by a title link {titled}"


def test_figures_and_tables_read_well_aloud(html):
    """A screen reader reads a figure's alt text and a table's header row: no figure's alt text
    is its file path (or missing), and no table has an empty header row."""
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for img in re.findall(r"<img\b[^>]*>", text):
            alt = re.search(r'\balt="([^"]*)"', img)
            assert alt and alt.group(1).strip(), f"{page.relative_to(html)}: an image without alt text: {img[:160]}"
            assert not re.search(r"\.(png|jpe?g|svg|gif)$", alt.group(1)), f"{page.relative_to(html)}: alt text is a file path: {img[:160]}"
        for head in re.findall(r"<thead>(.*?)</thead>", text, re.S):
            assert re.sub(r"<[^>]+>|\s", "", head), f"{page.relative_to(html)}: a table with an empty header row"


def test_api_reference_documents_the_library(html):
    text = (html / "book" / "api.html").read_text(encoding="utf-8")
    for name in ("solutions.common.run", "mse_loss", "gd_update", "adam_update", "momentum_update", "minibatch_indices"):
        assert name in text, name


@pytest.fixture(scope="module")
def server(html):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):          # no line per request in the test output
            pass
    handler = functools.partial(Quiet, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


# Elements of the page that scroll or clip sideways although their content is wider (display
# formulas, printed tables, code), and the page itself if it is wider than the window. MathJax's
# copy of each formula for screen readers is invisible but counts in scrollWidth: it is set aside.
OVERFLOW = """
document.head.insertAdjacentHTML('beforeend', '<style>mjx-assistive-mml { display: none !important; }</style>');
const out = [];
if (document.documentElement.scrollWidth > window.innerWidth)
  out.push('the page: ' + document.documentElement.scrollWidth + ' px wide');
for (const el of document.querySelectorAll('.bd-main *')) {
  const style = getComputedStyle(el);
  if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'visible')
    out.push(el.tagName.toLowerCase() + '.' + String(el.className).split(' ')[0] + ': ' + el.scrollWidth
             + ' px of content in ' + el.clientWidth + ' px: ' + (el.textContent || '').trim().slice(0, 80));
}
return out;
"""


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_fits_a_1280_px_window(server, browser, page):
    """No horizontal scrolling at 1280 px: no page wider than the window, and nothing inside it
    (a display formula, a printed table, a line of code) that scrolls or is cut off sideways."""
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(f"{server}/{page}.html")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.execute_script("return window.innerWidth") == 1280
    # The widths are final once MathJax has typeset the page and the fonts are loaded.
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const typeset = window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve();
        typeset.then(() => document.fonts.ready).then(() => done(true));""")
    assert browser.execute_script(OVERFLOW) == []


def _load(driver, url):
    """Open a page and wait until MathJax has typeset it and the fonts are loaded (the widths
    and the formulas are final then)."""
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const typeset = window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve();
        typeset.then(() => document.fonts.ready).then(() => done(true));""")


# What MathJax could not typeset: an error box ("Math input error", an undefined control
# sequence, a missing brace) is an mjx-merror element; its message is in data-mjx-error or
# in the box's text.
MATH_ERRORS = """
return Array.from(document.querySelectorAll('mjx-merror')).map(e => {
  const box = e.closest('mjx-container');
  return (e.getAttribute('data-mjx-error') || e.textContent).trim() + ' in: '
         + ((box && box.closest('p, li, td, div')) || e).textContent.trim().slice(0, 120);
});
"""


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_has_no_math_errors(server, browser, page):
    """MathJax typesets every formula of every page: no red error box."""
    _load(browser, f"{server}/{page}.html")
    errors = browser.execute_script(MATH_ERRORS)
    assert errors == [], "MathJax could not typeset:\n" + "\n".join(errors)


PAGE_WIDTH = """
document.head.insertAdjacentHTML('beforeend', '<style>mjx-assistive-mml { display: none !important; }</style>');
const root = document.documentElement;
const clipped = (el) => {     // inside a box that scrolls or clips sideways: it cannot widen the page
  for (let a = el.parentElement; a && a !== root; a = a.parentElement)
    if (getComputedStyle(a).overflowX !== 'visible') return true;
  return false;
};
const wide = [];
if (root.scrollWidth > root.clientWidth) {
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > root.clientWidth + 1 && r.width < root.scrollWidth - 1 && !clipped(el)
        && !wide.some((w) => w.el.contains(el)))
      wide.push({el, text: el.tagName.toLowerCase() + '.' + String(el.className).split(' ')[0] + ' reaches '
                 + Math.round(r.right) + ' px: ' + (el.textContent || '').trim().slice(0, 70)});
  }
}
return [root.clientWidth, root.scrollWidth, wide.slice(0, 8).map((w) => w.text)];
"""


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_does_not_scroll_sideways_on_a_phone(server, phone, page):
    """At 390 px nothing makes the page wider than the screen: a header link, an inline
    formula or a long code literal wraps; a display formula, a code block or a printed table
    scrolls inside its own box."""
    _load(phone, f"{server}/{page}.html")
    width, scroll_width, wide = phone.execute_script(PAGE_WIDTH)
    assert width == 390
    assert scroll_width <= width, f"the page is {scroll_width} px wide on a {width} px screen: {wide}"


@pytest.fixture(scope="module")
def axe(tmp_path_factory) -> str:
    """axe-core's script, installed from npm into the test's own folder."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("no npm here: axe-core cannot be installed")
    folder = tmp_path_factory.mktemp("axe")
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder), "axe-core"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (folder / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


# sphinx-book-theme 1.3.0's own violations (TOOLCHAIN.md), the same on every page, with the
# elements they are allowed on. Anything else of impact serious or critical fails.
THEME_VIOLATIONS = {
    # The search button's and the theme switch's visible text differ from their aria-label.
    "label-content-name-mismatch": ("the theme's search button and theme switch",
                                    ("search-button", "theme-switch-button")),
}


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_passes_axe(server, browser, axe, page):
    """axe-core finds no violation of impact serious or critical on any page, but the
    theme's own (``THEME_VIOLATIONS``)."""
    _load(browser, f"{server}/{page}.html")
    browser.execute_script(axe)
    browser.set_script_timeout(600)        # axe takes a minute on a long chapter on a loaded machine
    result = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160)}))}))));""")
    found = []
    for violation in result:
        if violation["impact"] not in ("serious", "critical"):
            continue
        _, allowed = THEME_VIOLATIONS.get(violation["id"], ("", ()))
        nodes = [n for n in violation["nodes"] if not any(a in n["target"] + n["html"] for a in allowed)]
        if nodes:
            found.append(f"{violation['id']} ({violation['impact']}: {violation['help']}): "
                         + json.dumps(nodes[:5]))
    assert found == [], "axe-core:\n" + "\n".join(found)


@pytest.mark.browser
def test_search_snippets_show_typeset_math(server, browser):
    """The search page's snippets come from the pages' HTML, where formulas are TeX between
    \\( and \\): the book's olf-search.js widens each snippet to whole formulas (Sphinx cuts
    them at fixed offsets) and typesets them, so no raw TeX, whole or half, shows."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(f"{server}/search.html?q=learning+rate")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: "Search finished" in d.find_element(By.ID, "search-results").text)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results .context mjx-container"))

    def raw_tex(d):
        return [p.text for p in d.find_elements(By.CSS_SELECTOR, "#search-results .context")
                if re.search(r"\\[()[\]]|\$\$|\\begin\{", p.text)]
    try:                                   # snippets arrive one by one: give the last ones time
        wait.until(lambda d: not raw_tex(d))
    except TimeoutException:
        pass
    assert raw_tex(browser) == []


@pytest.mark.browser
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_in_a_real_browser(server, browser, chapter, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(f"{server}/lessons/{chapter}.html")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    # MathJax (served from the book itself) typesets the math into mjx-container elements.
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "mjx-container")) >= 3)
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert broken == []
    # A folded reference solution is hidden, and opens on a click to show its code.
    folded = browser.find_element(By.CSS_SELECTOR, ".admonition.dropdown")
    code = folded.find_element(By.CSS_SELECTOR, "pre")
    assert "toggle-hidden" in folded.get_attribute("class") and not code.is_displayed()
    button = folded.find_element(By.CSS_SELECTOR, "button.toggle-button")
    browser.execute_script("arguments[0].scrollIntoView()", button)
    button.click()
    wait.until(lambda d: code.is_displayed())
    assert "def " in code.text
    # No script error and no missing resource (the theme's console chatter and the favicon aside).
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"
              and e["source"] != "console-api" and "favicon.ico" not in e["message"]]
    assert errors == []
    browser.save_screenshot(str(tmp_path / f"{chapter}.png"))
