"""Reading the command line's words before Click does: an expression that
starts with a minus is not an option, and an error must know whether the run
answers in a machine format even when Click could not parse it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# What an attached short-option value (-a3, -wx, -n2, -fdot) must look like
# for the word to be that option rather than an expression starting with a
# minus (-a*b, -w^2): a point, variable names, or a value of the option's type.
_ATTACHED = {
    "at": re.compile(r"[0-9.+(\[-].*|[A-Za-z]\w*=.*|(pi|e|E)([^\w].*)?"),
    "wrt": re.compile(r"[A-Za-z]\w*(,[A-Za-z]\w*)*"),
}


def _fits(param: Any, value: str) -> bool:
    """Could `value` be `param`'s value, attached to its short name?"""
    if param.name in _ATTACHED:
        return _ATTACHED[param.name].fullmatch(value) is not None
    descriptor = param.type_descriptor
    if descriptor.choices:
        return value in [str(getattr(c, "value", c)) for c in descriptor.choices]
    if descriptor.annotation is int:
        return re.fullmatch(r"[0-9]+", value) is not None
    if descriptor.annotation is float:
        return re.fullmatch(r"[0-9.][0-9.eE+-]*", value) is not None
    return True


def option_kind(word: str, options: dict) -> str:
    """'flag', 'takes value' (the next word is its value), 'has value'
    (--name=value), 'attached' (-a3), 'argument', or 'expression' (a word
    starting with '-' that is no option)."""
    if word.startswith("--"):
        name, equals, _ = word.partition("=")
        param = options.get(name)
        if equals or param is None:
            return "has value"  # an unknown --name gets Click's error
        return "flag" if param is None or param.is_flag else "takes value"
    if not word.startswith("-") or word == "-":
        return "argument"
    if word in options:
        param = options[word]
        return "flag" if param is None or param.is_flag else "takes value"
    param = options.get(word[:2])
    if param is not None and not param.is_flag and _fits(param, word[2:]):
        return "attached"
    return "expression"


def option_table(command: Any, help_names: list[str]) -> dict:
    """Every spelling of every option of `command` (help included) -> its
    parameter (None for help, a flag)."""
    table: dict = {}
    for param in command.params:
        if param.param_type_name == "option":
            for spelling in list(param.opts) + list(param.secondary_opts):
                table[spelling] = param
    for spelling in help_names:
        table[spelling] = None
    return table


def protect_negative_expressions(
    args: list, commands: Mapping[str, Any], help_names: list[str]
) -> list:
    """An expression like '-x^2' is not an option: prefix it with a space
    (which the parser ignores) so Click takes it as the argument. A word
    is an option when it is one of the command's spellings, a long one
    with '=value', or a short one with an attached value that fits it
    (-a3, -n2, -fdot); anything else starting with '-' is an expression.
    When a command that takes an expression would get none, its first
    attached-value word is the expression after all (-wx alone is the
    expression -wx; beside x^2 it is --wrt x)."""
    if not args or args[0] not in commands:
        return args
    options = option_table(commands[args[0]], help_names)
    words, kinds, takes_value, rest = [args[0]], [""], False, []
    for position, word in enumerate(args[1:], start=1):
        if takes_value:  # the value of the option before, whatever it looks like
            kind, takes_value = "value", False
        elif word == "--":
            rest = args[position:]
            break
        else:
            kind = option_kind(word, options)
            takes_value = kind == "takes value"
        words.append(word)
        kinds.append(kind)
    wants_argument = any(p.param_type_name == "argument" for p in commands[args[0]].params)
    no_argument = not rest and not {"argument", "expression"} & set(kinds)
    if wants_argument and no_argument and "attached" in kinds:
        kinds[kinds.index("attached")] = "expression"
    return [" " + word if kind == "expression" else word for word, kind in zip(words, kinds)] + rest


# Options that name an input: a second one would silently replace the first.
ONCE_ONLY = ("points",)


def given_twice(args: list, commands: Mapping[str, Any], help_names: list[str]) -> str | None:
    """The spelling of a ONCE_ONLY option that `args` give more than once
    (None: none is), read with the command's own option table."""
    if not args or args[0] not in commands:
        return None
    options = option_table(commands[args[0]], help_names)
    seen, takes_value = set(), False
    for word in args[1:]:
        if takes_value:  # the value of the option before, whatever it looks like
            takes_value = False
            continue
        if word == "--":
            break
        kind = option_kind(word, options)
        takes_value = kind == "takes value"
        spelling = word.partition("=")[0] if word.startswith("--") else word[:2]
        param = options.get(spelling) if kind != "argument" else None
        if param is not None and param.name in ONCE_ONLY:
            if param.name in seen:
                return str(param.opts[0])
            seen.add(param.name)
    return None


def asks_machine_format(
    args: list, parsed: dict, commands: Mapping[str, Any], help_names: list[str]
) -> bool:
    """Does this run answer in a machine format (--json, --format json)?
    Click's parse when it got that far; else (a usage error) the words,
    read with the command's own option table."""
    if parsed:
        return bool(parsed.get("json")) or choice_value(parsed.get("format")) == "json"
    if not args:
        return False
    known = args[0] in commands
    options = option_table(commands[args[0]], help_names) if known else {}
    if "json" not in {getattr(p, "name", None) for p in options.values()}:
        # No such command, or one without --json (completion): asked for
        # JSON all the same, the error comes as JSON.
        return "--json" in (args[: args.index("--")] if "--" in args else args)
    return _words_ask_json(iter(args[1:]), options)


def _words_ask_json(words: Any, options: dict) -> bool:
    machine = False
    for word in words:
        if word == "--":
            break
        name, _, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        param = options.get(name)
        if param is None and word[:2] in options and not word.startswith("--"):
            name, attached, param = word[:2], word[2:], options[word[:2]]
        if param is None:
            continue
        if param.name == "json":
            machine = True
        elif param.name == "format":
            machine = machine or (attached or next(words, "")) == "json"
        elif not (param.is_flag or attached):
            next(words, None)
    return machine


def choice_value(choice: Any) -> Any:
    """An enum choice's value (Click gives the enum, a test may give the text)."""
    return getattr(choice, "value", choice)
