"""Checks every console page must pass: a title, a label for each field, nothing loaded
from another site, and nothing the Content-Security-Policy would block (inline scripts,
style attributes or blocks)."""

from __future__ import annotations

from html.parser import HTMLParser

FIELDS = ("input", "select", "textarea")
UNLABELLED_TYPES = ("hidden", "submit", "button")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.in_title = False
        self.labels: set[str] = set()
        self.fields: list[tuple[str, str | None]] = []
        self.urls: list[str] = []
        self.problems: list[str] = []
        self.in_script_without_src = False
        self.script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "title":
            self.in_title = True
        if tag == "label" and values.get("for"):
            self.labels.add(str(values["for"]))
        if tag in FIELDS and values.get("type") not in UNLABELLED_TYPES:
            self.fields.append((tag, values.get("id")))
        for name in ("src", "href", "action", "formaction"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if "style" in values:
            self.problems.append(f"style attribute on <{tag}>")
        if any(name.startswith("on") for name in values):
            self.problems.append(f"event handler attribute on <{tag}>")
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script" and not values.get("src") and values.get("type") != "application/json":
            self.in_script_without_src = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag == "script" and self.in_script_without_src:
            if self.script_text.strip():
                self.problems.append("inline <script>")
            self.in_script_without_src, self.script_text = False, ""

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        if self.in_script_without_src:
            self.script_text += data


def page_problems(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    problems = list(page.problems)
    if not page.title.strip() or page.title.strip().startswith("·"):
        problems.append("no <title>")
    for tag, field_id in page.fields:
        if not field_id or field_id not in page.labels:
            problems.append(f"<{tag} id={field_id!r}> has no <label for>")
    for url in page.urls:
        if url.startswith(("http:", "https:", "//")) or "://" in url:
            problems.append(f"outside address {url}")
    return problems
