"""Hosts' Markdown (challenge descriptions), rendered to HTML that is safe to show anyone.

Markdown may carry raw HTML; the output is cleaned by nh3 to a small set of tags and
attributes, so a description cannot run script or restyle the page.
"""

from __future__ import annotations

import markdown
import nh3

TAGS = {
    "a", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "li", "ol", "p", "pre",
    "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> str:
    """HTML for ``text`` (Markdown with tables and fenced code), cleaned by nh3."""
    html = markdown.markdown(text or "", extensions=["tables", "fenced_code"])
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES)
