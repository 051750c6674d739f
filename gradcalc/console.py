"""The console script's entry: the command line, imported with the garbage
collector off.

Importing Typer and the CLI makes objects that live as long as the process;
collecting while they are made cost ~3 ms of every run's start-up. The
collector stays off in the process that supervises a command, which only
imports and waits (budget.run); the command's child keeps it off until it
computes (budget.computing), as before. --help, --version, completion and
the repl turn it back on before they run (cli.supervisor.main).
This module imports nothing at its own import: `gradcalc.cli` would bring
Typer with it.
"""


def main() -> None:
    """`gradcalc`: cli.main, the collector off while it is imported."""
    import gc

    gc.disable()
    from .cli import main as cli_main

    cli_main()
