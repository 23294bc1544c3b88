"""What every portal page must have, read from its HTML: a title, a label for every field,
nothing loaded from elsewhere, and nothing inline that the Content-Security-Policy blocks."""

from __future__ import annotations

from html.parser import HTMLParser

SHARE_HOSTS = ("mailto:", "https://wa.me/", "https://x.com/intent/")


class PageFacts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self._in_title = False
        self.fields: list[str | None] = []  # ids of visible form fields
        self.labels: set[str] = set()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        if tag == "input" and values.get("type", "text") not in ("hidden", "submit", "button"):
            self.fields.append(values.get("id"))
        if tag in ("select", "textarea"):
            self.fields.append(values.get("id"))
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"])
        if "style" in values:
            self.problems.append(f"inline style on <{tag}>")
        if tag == "style":
            self.problems.append("a <style> block")
        if tag == "script" and not values.get("src"):
            self.problems.append("an inline <script>")
        if any(name.startswith("on") for name in values):
            self.problems.append(f"an inline event handler on <{tag}>")
        for name in ("src", "action", "formaction"):
            if name in values and not _local(values[name]):
                self.problems.append(f"<{tag} {name}={values[name]!r}> leaves the server")
        if "href" in values and not _local(values["href"]):
            share = "share" in values.get("class", "").split() and tag == "a"
            if not (share and values["href"].startswith(SHARE_HOSTS)):
                self.problems.append(f"<{tag} href={values['href']!r}> leaves the server")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _local(url: str) -> bool:
    return url.startswith(("/", "#", "?", "data:")) and not url.startswith("//")


def check_page(html: str) -> list[str]:
    """Every problem found (empty: the page is fine)."""
    facts = PageFacts()
    facts.feed(html)
    problems = list(facts.problems)
    if not facts.title.strip() or facts.title.strip().startswith("·"):
        problems.append("no <title>")
    for field in facts.fields:
        if not field or field not in facts.labels:
            problems.append(f"a field without a label (id={field!r})")
    return problems
