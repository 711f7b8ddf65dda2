"""What every command shares: a failure is one line on stderr and an exit code, never a traceback.

Exit codes: 0 done (verified), 1 refused or failed (a check failed, a rule said no), 2 bad
input (a missing or unreadable file, an argument that cannot be right).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

REFUSED, BAD_INPUT = 1, 2


def fail(message: str, code: int = REFUSED) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with ``code``."""
    typer.echo(" ".join(str(message).split("\n")), err=True)
    raise typer.Exit(code)


@contextmanager
def progress(description: str, total: float | None) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr, shown only when stderr is a terminal (rich): stdout stays
    machine-readable (scripts read it). Yields ``update(**fields)`` of its one task: ``advance=``,
    ``completed=``, ``description=``, ``total=``."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    # redirect_stdout off: rich would send what the command prints to stdout through its
    # console, i.e. to stderr, while the bar shows (`DRAW=$(lianzheng …)` on a terminal).
    with Progress(console=console, transient=True, disable=not console.is_terminal, redirect_stdout=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda **fields: bar.update(task, **fields)


def lazy_app(table: Mapping[str, str], help: str) -> typer.Typer:
    """A command root over ``table`` (name → ``"module:attribute"``, see ``lazy_commands``)."""
    app = typer.Typer(cls=lazy_commands(table), add_completion=False, no_args_is_help=True, help=help)
    app.callback()(lambda: None)  # a group even before any command is loaded
    return app


def lazy_commands(table: Mapping[str, str]) -> type[TyperGroup]:
    """A group class (``typer.Typer(cls=...)``) whose commands are imported when one is run or
    listed: ``table`` maps each name to ``"module:attribute"``, a command function or a
    ``typer.Typer``. ``lianzheng serve`` then loads the notary, not every package's commands
    (their imports cost ~0.6 s of CPU at every start)."""

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: typer.Context) -> list[str]:
            return list(table)  # in the table's order, whichever were loaded already

        def get_command(self, ctx: typer.Context, name: str) -> TyperCommand | TyperGroup | None:
            if name not in self.commands and name in table:
                self.commands[name] = _command(name, table[name])
            return super().get_command(ctx, name)

    return LazyGroup


def _command(name: str, target: str) -> TyperCommand | TyperGroup:
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):  # a group even with one command (``archive check``)
        command: TyperCommand | TyperGroup = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


def run(app: typer.Typer) -> None:
    """Run a command line; a Lianzheng error that no command caught is one line, never a traceback."""
    from lianzheng.sdk.errors import LianzhengError

    try:
        app()
    except LianzhengError as exc:  # outside click: typer.Exit would surface as a traceback here
        typer.echo(" ".join(f"error ({exc.code}): {exc}".split()), err=True)
        raise SystemExit(REFUSED) from None
