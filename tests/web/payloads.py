"""Stored script payloads for the page tests, and the articles built from them.

Every payload that could run sets its own global, `window.__xss_<where>`, and
most also call `alert`, so a test can detect both a flag and a dialog.
"""

from __future__ import annotations

from dataclasses import dataclass

FLAG_PREFIX = "__xss_"

# Markup for titles and summaries. FLAG is replaced by a global name unique
# to the field it is stored in.
MARKUP_PAYLOADS = [
    '<img src=x onerror="window.FLAG=1;alert(1)">',
    "<script>window.FLAG=1;alert(1)</script>",
    '<svg onload="window.FLAG=1;alert(1)"></svg>',
    # Closes the elements a template would put the title in, then adds a script.
    "</h3></li></ol><script>window.FLAG=1;alert(1)</script><ol><li><h3>",
    # Break out of a double- or single-quoted attribute into a new element.
    '"><img src=x onerror="window.FLAG=1;alert(1)">',
    "'><img src=x onerror='window.FLAG=1;alert(1)'>",
    # Stay inside the tag and add an event handler attribute.
    '" autofocus onfocus="window.FLAG=1;alert(1)" x="',
    "' autofocus onfocus='window.FLAG=1;alert(1)' x='",
    '<iframe src="javascript:top.FLAG=1;alert(1)"></iframe>',
    '<a href="javascript:window.FLAG=1;alert(1)">click</a>',
]

# Stored addresses, and whether the page may make a link from each. Only an
# absolute http(s) URL may become a link.
URL_PAYLOADS: list[tuple[str, bool]] = [
    ("javascript:window.FLAG=1;alert(1)", False),
    ("JaVaScRiPt:window.FLAG=1;alert(1)", False),
    ("java\tscript:window.FLAG=1;alert(1)", False),
    ("java\nscript:window.FLAG=1;alert(1)", False),
    ("java\rscript:window.FLAG=1;alert(1)", False),
    ("   javascript:window.FLAG=1;alert(1)", False),
    ("\x01javascript:window.FLAG=1;alert(1)", False),
    ("javascript://example.test/%0Awindow.FLAG=1;alert(1)", False),
    ("data:text/html,<script>window.FLAG=1;alert(1)</script>", False),
    ("vbscript:window.FLAG=1", False),
    ("//example.test/protocol-relative", False),
    ("/relative/path", False),
    ("example.test/no-scheme", False),
    ('https://example.test/"><img src=x onerror="window.FLAG=1;alert(1)">', True),
    ("https://example.test/'onmouseover='window.FLAG=1", True),
    ("http://example.test/plain", True),
]

# The addresses the API and the import must reject.
REJECTED_URLS = [url.replace("FLAG", f"{FLAG_PREFIX}api") for url, ok in URL_PAYLOADS if not ok]


@dataclass(frozen=True)
class HostileArticle:
    title: str
    summary: str
    url: str
    is_link: bool


def _with_flag(payload: str, name: str) -> str:
    return payload.replace("FLAG", f"{FLAG_PREFIX}{name}")


def hostile_articles() -> list[HostileArticle]:
    """Build one article per URL payload, with markup payloads in title and summary.

    There are more URL payloads than markup payloads, so every markup payload
    appears at least once as a title and once as a summary.
    """
    articles = []
    for index, (url, is_link) in enumerate(URL_PAYLOADS):
        title = MARKUP_PAYLOADS[index % len(MARKUP_PAYLOADS)]
        summary = MARKUP_PAYLOADS[(index + 3) % len(MARKUP_PAYLOADS)]
        articles.append(
            HostileArticle(
                title=_with_flag(title, f"title{index}"),
                summary=_with_flag(summary, f"summary{index}"),
                url=_with_flag(url, f"url{index}"),
                is_link=is_link,
            )
        )
    return articles
