"""What a page's text turns into on screen: the links, images, HTML and math that Streamlit's
markdown renderer would make of it.

The browser renders markdown as CommonMark plus GitHub's extensions and `$math$`. One of those
extensions links bare URLs and e-mail addresses found in the text *after* escapes are resolved,
so `https\\://host` still becomes a link there: `autolinks` looks for them the same way.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

_MD = MarkdownIt("commonmark").enable("strikethrough").use(dollarmath_plugin)
# GitHub's autolink literals as the renderer finds them in text: http(s)://..., www. and e-mail.
_URL = re.compile(r"(?:https?://|www(?=\.))[-.\w]+[^ \t\r\n]*", re.IGNORECASE)
_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+")
_STRING_FIELDS_SKIPPED = {"spec", "id", "form_id", "url", "file_id"}


def rendered(markdown):
    """[(kind, text)] of what `markdown` renders besides plain text: "link" and "image" with
    their target, "autolink" for a bare URL or address, "html" and "math" with their source."""
    found = []
    for token in _walk(_MD.parse(markdown)):
        if token.type == "link_open":
            found.append(("link", token.attrs.get("href", "")))
        elif token.type == "image":
            found.append(("image", token.attrs.get("src", "")))
        elif token.type in ("html_inline", "html_block"):
            found.append(("html", token.content))
        elif token.type.startswith("math"):
            found.append(("math", token.content))
        elif token.type == "inline":
            text = "".join(child.content for child in token.children or () if child.type == "text")
            found += [("autolink", m.group()) for m in _URL.finditer(text)]
            found += [("autolink", m.group()) for m in _EMAIL.finditer(text)]
    return found


def plain(markdown):
    """The text a reader sees of `markdown` (escapes resolved, invisible characters gone)."""
    words = [
        child.content
        for token in _walk(_MD.parse(markdown))
        if token.type == "inline"
        for child in token.children or ()
        if child.type in ("text", "code_inline")
    ]
    return "".join(words).replace("\u2060", "")


def _walk(tokens):
    for token in tokens:
        yield token
        yield from _walk(token.children or ())


def shown_texts(at):
    """Every string an AppTest run put into an element (bodies, labels, help, toasts, ...),
    except chart specs and ids."""
    texts = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            texts += _strings(proto)
    return texts


def _nodes(node):
    yield node
    children = getattr(node, "children", None) or {}
    for child in children.values():
        yield from _nodes(child)


def _strings(message):
    for field, value in message.ListFields():
        if field.name in _STRING_FIELDS_SKIPPED:
            continue
        values = value if field.is_repeated else [value]
        for item in values:
            if isinstance(item, str):
                yield item
            elif hasattr(item, "ListFields"):
                yield from _strings(item)
