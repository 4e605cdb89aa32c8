// The search page shows a snippet of each page found, taken from the page's HTML, where the
// formulas are still TeX between \( and \): typeset them with the book's own MathJax (offline).
// Added with html_js_files in _config.yml; it does nothing on the other pages.
document.addEventListener("DOMContentLoaded", () => {
  const results = document.getElementById("search-results");
  if (!results) return;
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
        .filter((p) => p.textContent.includes("\\("));
      if (snippets.length === 0) return;
      snippets.forEach((p) => p.setAttribute("data-typeset", ""));
      load().then(() => MathJax.typesetPromise(snippets));
    }, 200);
  }).observe(results, {childList: true, subtree: true});
});
