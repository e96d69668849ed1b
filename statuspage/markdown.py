"""Tenant-written Markdown → safe HTML, once, at write time.

python-markdown renders; nh3 (Ammonia) then keeps only an allow-list of tags and attributes, so
whatever HTML an operator (or a stolen API key) writes, visitors get inert markup. Links may only
be http, https or mailto and always carry rel="nofollow noopener".
"""

from __future__ import annotations

import re

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "nl2br"]
HEADING_TOO_BIG = re.compile(r"<(/?)h[12](?=[\s>])")


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """HTML for `text`, safe to mark safe in a template."""
    if not text:
        return ""
    html = markdown_lib.markdown(text, extensions=EXTENSIONS, output_format="html")
    # h1/h2 would compete with the page's own headings; they become h3 (h3–h6 stay).
    html = HEADING_TOO_BIG.sub(r"<\1h3", html)
    return sanitise_html(html)


def markdown_to_text(text: str) -> str:
    """A plain-text rendering for emails' text part and feeds: the Markdown itself, trimmed."""
    return (text or "").strip()
