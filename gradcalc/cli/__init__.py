"""The command line: thin commands over the library.

- `app`: the Typer app (app.py), its commands one module each (commands/),
  their shared options declared once (options.py);
- `group`: the Click group behind it, where every way a run ends is mapped
  to its exit code;
- `main`: the console script, the process around a command (supervisor.py).

Torch and SymPy are imported inside the commands, so `--help`, `--version`
and completion stay fast.
"""

from .app import app
from .report import MAX_MESSAGE
from .stack import RECURSION_LIMIT
from .supervisor import main

__all__ = ["MAX_MESSAGE", "RECURSION_LIMIT", "app", "main"]
