"""`gradcalc repl`: one warm session, many answers."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import examples

SETTINGS = {
    "short_help": "One warm session: command lines answered at a prompt or from a pipe.",
    "epilog": examples(
        "gradcalc repl",
        "echo 'diff x^2 --at 1' | gradcalc repl --json",
    ),
}


def repl(
    ctx: typer.Context,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Answer every line with --json: one JSON document per line that asks "
            "something (NDJSON; blank lines and # comments answer nothing), each with its "
            "exit status in `exit_code`.",
        ),
    ] = False,
) -> int:
    """One warm session, many answers: gradcalc command lines without 'gradcalc', at a prompt
    (history, completion, Ctrl-C cancels an answer) or one per line from a pipe. A bare
    expression is diff at the session's point; 'at x=3' sets x in it; 'ans' is the last
    derivative shown."""
    from ...repl import main as session

    # The session answers each line with this same app, handed down (the
    # repl never imports the CLI).
    return session(ctx.find_root().command, json)
