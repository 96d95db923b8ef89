"""HTML → one page of lines: block elements in document order, each with only its own text (nested
blocks are read on their own), table rows as cells joined by " | ", site chrome left out. Every walk
over the tree uses a stack, so no depth of nesting raises RecursionError."""

from __future__ import annotations

import re

from ..models import Line, Page
from . import limits
from .limits import BudgetExceeded
from .text import text_pages

# a <div> counts for the text it holds itself (a byline, a dateline), not for the blocks inside it
BLOCK_TAGS = [
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "tr",
    "dt",
    "dd",
    "figcaption",
    "caption",
    "div",
]


CONTAINER_TAGS = set(BLOCK_TAGS) | {"ul", "ol", "dl", "table", "div", "section", "article"}


def _own_text(element) -> str:
    """An element's text without that of the blocks nested in it (they are read on their own),
    so broken markup such as an unclosed <p> around a list loses nothing and repeats nothing.
    Walked with a stack, not recursion: inline tags nested thousands deep (<b><b><b>…) raised
    RecursionError, which no caller expects from a bad document. Comments, CDATA and processing
    instructions are not text a reader sees (a commented-out draft showed up as a paragraph)."""
    from bs4.element import NavigableString, PreformattedString

    parts = []
    pending = list(reversed(element.contents))
    while pending:
        node = pending.pop()
        if isinstance(node, PreformattedString):
            continue
        if isinstance(node, NavigableString):
            parts.append(str(node))
        elif node.name not in CONTAINER_TAGS:
            pending.extend(reversed(node.contents))
    return "".join(parts)


def html_pages(text: str) -> list[Page]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    depth = _nesting_depth(soup)
    if depth > limits.MAX_HTML_DEPTH:
        raise BudgetExceeded(f"HTML elements nested {depth:,} deep; the limit is {limits.MAX_HTML_DEPTH:,}")
    for tag in soup(["script", "style", "noscript", "nav", "form", "svg", "iframe", "template", "aside"]):
        if not tag.decomposed:  # one nested in a removed one went with it (removing it again cost its subtree again)
            tag.decompose()
    _drop_site_chrome(soup)
    root = soup.find("article") or soup.find("main") or soup.body or soup
    in_cells = _inside_cells(root)
    page = Page(number=1)
    for element in root.find_all(BLOCK_TAGS):
        if id(element) in in_cells:
            continue  # a paragraph or list in a table cell is read as part of its row
        if element.name == "tr":
            cells = _row_cells(element)
            content, kind = " | ".join(c for c in cells if c), "table"
        else:
            content, kind = _own_text(element), "list" if element.name == "li" else "body"
        content = re.sub(r"\s+", " ", content).strip()
        if not content:
            continue
        heading = element.name in ("h1", "h2", "h3", "h4", "h5", "h6")
        page.lines.append(Line(text=content, page=1, bold=heading, kind=kind, starts_block=True))
    if not page.lines:  # markup without block elements: fall back to its text lines
        return text_pages(root.get_text("\n"), markdown=False)
    return [page]


def _nesting_depth(soup) -> int:
    """How deep elements nest, walked with a stack."""
    deepest = 0
    pending = [(soup, 0)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in getattr(node, "contents", ()) if getattr(child, "name", None))
    return deepest


def _inside_cells(root) -> set[int]:
    """Ids of the block elements (other than rows) inside a table cell, whose text their row reads: a
    <p> in a <td> came out twice, as a paragraph and in its row. A table nested in a cell has rows and
    cells of its own. One walk with a stack."""
    inside: set[int] = set()
    pending = [(root, False)]
    while pending:
        node, in_cell = pending.pop()
        for child in getattr(node, "contents", ()):
            name = getattr(child, "name", None)
            if name is None:
                continue
            if name == "table" or name == "tr":
                pending.append((child, False))
                continue
            if in_cell and name in BLOCK_TAGS:
                inside.add(id(child))
            pending.append((child, in_cell or name in ("td", "th")))
    return inside


def _drop_site_chrome(soup) -> None:
    """A site's header and footer are chrome; an article's own header holds its title and byline (a
    header nested in a removed one is gone with it). One walk that knows whether it is inside an
    <article> or <main>: asking each header for its ancestors made deeply nested headers quadratic."""
    chrome = []
    pending = [(soup, False)]
    while pending:
        node, inside = pending.pop()
        for child in getattr(node, "contents", ()):
            name = getattr(child, "name", None)
            if name is None:
                continue
            if name in ("header", "footer") and not inside:
                chrome.append(child)  # its descendants go with it
            else:
                pending.append((child, inside or name in ("article", "main")))
    for tag in chrome:
        tag.decompose()


def _row_cells(row) -> list[str]:
    """The cells of a table row (<td>, <th>), each as its words. A table nested in a cell is read as its
    own rows, not again inside the cell around it: for every <tr>, all the cells and text below it made
    nested tables quadratic in size and cubic in time (800 deep took 107 s), and repeated each row's text
    in every row around it. Walked with a stack; text a reader does not see (comments, CDATA) is left out."""
    from bs4.element import NavigableString, PreformattedString

    cells: list[list[str]] = []
    pending = [(child, -1) for child in reversed(row.contents)]
    while pending:
        node, cell = pending.pop()
        if isinstance(node, PreformattedString):
            continue
        if isinstance(node, NavigableString):
            if cell >= 0:
                cells[cell].append(str(node))
            continue
        if node.name in ("table", "tr"):
            continue  # a nested table (or an unclosed row's next row) is read on its own
        if node.name in ("td", "th"):
            cells.append([])
            cell = len(cells) - 1
        pending.extend((child, cell) for child in reversed(node.contents))
    return [" ".join(part.strip() for part in parts if part.strip()) for parts in cells]
