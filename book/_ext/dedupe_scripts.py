"""Drop repeated <script> tags from every page.

With Sphinx 7.4, sphinx-thebe and sphinx-togglebutton add their inline configuration
twice (once with filename None, once with ''), so every page declares
``const THEBE_JS_URL`` twice and the browser logs a SyntaxError.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for js in context.get("script_files", []):
        key = (js.filename or "", tuple(sorted((k, str(v)) for k, v in js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
