// The search page shows a snippet of each page found, taken from the page's HTML, where the
// formulas are still TeX between \( and \): typeset them with the book's own MathJax (offline).
// Sphinx cuts the snippet at fixed offsets (120 characters before the match, 240 in all),
// often in the middle of a formula, whose half would then show as raw TeX: the snippet is
// widened to whole formulas. Added with html_js_files in _config.yml; it does nothing on the
// other pages.
const OLF_FORMULA = /\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$|\\begin\{([a-z]+\*?)\}.*?\\end\{\1\}/gs;

// The snippet of `text` around its last keyword: Sphinx's window, widened so that it cuts
// no formula (typeset, a formula is far shorter than its TeX).
function olfSearchSummary(text, keywords) {
  const lower = text.toLowerCase();
  const hits = [...keywords].map((k) => lower.indexOf(k.toLowerCase())).filter((i) => i > -1);
  let start = Math.max((hits.length ? hits[hits.length - 1] : 0) - 120, 0);
  let end = Math.min(start + 240, text.length);
  for (const m of text.matchAll(OLF_FORMULA)) {
    const a = m.index, b = m.index + m[0].length;
    if (a < start && start < b) start = a;
    if (a < end && end < b) end = b;
  }
  return (start > 0 ? "..." : "") + text.slice(start, end).trim() + (end < text.length ? "..." : "");
}

document.addEventListener("DOMContentLoaded", () => {
  const results = document.getElementById("search-results");
  if (!results) return;
  if (typeof Search !== "undefined" && Search.htmlToText) {
    Search.makeSearchSummary = (htmlText, keywords, anchor) => {
      const text = Search.htmlToText(htmlText, anchor);
      if (text === "") return null;
      const summary = document.createElement("p");
      summary.classList.add("context");
      summary.textContent = olfSearchSummary(text, keywords);
      return summary;
    };
  }
  let mathjax = null;
  const load = () => mathjax ??= new Promise((resolve) => {
    window.MathJax = {startup: {typeset: false, ready: () => { MathJax.startup.defaultReady(); resolve(); }}};
    const script = document.createElement("script");
    script.src = (document.documentElement.dataset.content_root || "") + "_static/mathjax/tex-chtml.js";
    script.defer = true;
    document.head.appendChild(script);
  });
  let timer = null;
  new MutationObserver(() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const snippets = [...results.querySelectorAll(".context:not([data-typeset])")]
        .filter((p) => /\\[()[\]]|\$\$|\\begin\{/.test(p.textContent));
      if (snippets.length === 0) return;
      snippets.forEach((p) => p.setAttribute("data-typeset", ""));
      load().then(() => MathJax.typesetPromise(snippets));
    }, 200);
  }).observe(results, {childList: true, subtree: true});
});
