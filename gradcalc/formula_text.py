"""A derivative formula as text: whole when it is small, else its leading terms.

Printing all of a huge derivative takes longer than computing it, so past a
size only the first terms are printed, and past UNPRINTED_TREE operations in
the expression not even those (`full` prints everything).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cas import Engine

MAX_SYMBOLIC = 4000  # characters of a derivative's text shown without `full`
PRINTABLE_NODES = 3000  # a derivative this small is printed whole, cheaply
UNPRINTED_TREE = 2000  # past this many operations the derivative is not printed without `full`


def _size_at_least(f: Any, limit: int) -> int:
    """Nodes of f, counted up to `limit` (bounded work however large f is)."""
    count, stack = 0, [f]
    while stack and count < limit:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


def derivative_text(engine: Engine, d: Any, full: bool, tree_nodes: int = 0) -> tuple[str, bool]:
    """(text, truncated): the derivative printed whole when it is small or
    `full`; otherwise its leading terms, printed one at a time, and a count of
    the rest."""
    if not full and tree_nodes > UNPRINTED_TREE:
        return (
            f"(not printed: the expression has {tree_nodes} operations; "
            "--full prints its derivative)"
        ), True
    if full or _size_at_least(d, PRINTABLE_NODES) < PRINTABLE_NODES:
        text = engine.text(d)
        if full or len(text) <= MAX_SYMBOLIC:
            return text, False
        return text[:MAX_SYMBOLIC] + " …", True
    joiner = {"Add": " + ", "Mul": "*"}.get(type(d).__name__)
    if joiner is None or not d.args:
        return engine.text(d)[:MAX_SYMBOLIC] + " …", True
    shown: list[str] = []
    length = 0
    show = engine.printer()  # the terms share sub-expressions (softmax's sum)
    for term in d.args:
        if _size_at_least(term, PRINTABLE_NODES) >= PRINTABLE_NODES:
            piece = show(term)[: MAX_SYMBOLIC // 4] + "…"
        else:
            piece = show(term)
        if shown and length + len(piece) > MAX_SYMBOLIC:
            break
        shown.append(f"({piece})" if joiner == "*" and len(term.args) > 1 else piece)
        length += len(piece)
    rest = len(d.args) - len(shown)
    return joiner.join(shown) + f"{joiner}… ({rest} more terms; --full shows all)", True


__all__ = ["MAX_SYMBOLIC", "PRINTABLE_NODES", "UNPRINTED_TREE", "derivative_text"]
