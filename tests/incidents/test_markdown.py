"""Hostile Markdown and HTML come out inert: no script, handler, style or dangerous URL."""

import re

import pytest

from statuspage.markdown import render_markdown

CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<<script>script>alert(1)<</script>/script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<form action="https://evil.example"><input name=x></form>',
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    '<a href="vbscript:msgbox(1)">x</a>',
    "<details open ontoggle=alert(1)>",
    "<base href=https://evil.example/>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "![x](https://evil.example/x.png)",
]
DANGEROUS = re.compile(
    r"<\s*(script|style|iframe|svg|math|img|form|input|object|embed|base|meta|details|noscript)"
    r"|\bon[a-z]+\s*=|javascript:|vbscript:|data:|style\s*=",
    re.IGNORECASE,
)


@pytest.mark.parametrize("text", CORPUS)
def test_hostile_input_is_neutralised(text):
    html = render_markdown(text)
    assert DANGEROUS.search(html) is None, html


def test_markdown_renders_the_allowed_subset():
    text = "### Impact\n\n**Bold** and *em*, `code`\n\n- one\n- two\n\n> quote\n\n[docs](https://example.com)"
    assert render_markdown(text) == (
        "<h3>Impact</h3>\n"
        "<p><strong>Bold</strong> and <em>em</em>, <code>code</code></p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<blockquote>\n<p>quote</p>\n</blockquote>\n"
        '<p><a href="https://example.com" rel="nofollow noopener">docs</a></p>'
    )


def test_top_level_headings_are_demoted():
    assert render_markdown("# Big") == "<h3>Big</h3>"


def test_tables_survive():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<table>" in html and "<td>1</td>" in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
