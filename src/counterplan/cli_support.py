"""The machinery of the command line, apart from its commands: help pages that
read like those of the tools researchers already use, commands loaded from
other modules only when they run, choices read from the library only when
checked, and the console that reports progress.

Nothing here imports numpy, pandas, HiGHS or SQLAlchemy."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

#: An option's help may name the choices the library offers, filled in only
#: when a help page is shown: ``help="… one of {algorithms}"``.
HELP_CHOICES: dict[str, Callable[[], Sequence[str]]] = {}


def _help_of(param: Any) -> str:
    text = param.help or ""
    for key, load in HELP_CHOICES.items():
        if "{" + key + "}" in text:
            text = text.replace("{" + key + "}", ", ".join(load()))
    return text


def _default_of(param: Any) -> str | None:
    if isinstance(param.show_default, str):
        return param.show_default
    if param.show_default is False or param.default is None or getattr(param, "is_flag", False):
        return None
    if isinstance(param.default, list | tuple):
        return None
    return str(param.default)


def _option_record(param: Any) -> tuple[str, str]:
    names = ", ".join(sorted(param.opts, key=len))
    if not param.is_flag:
        names += " " + (param.metavar or (param.name or "").upper())
    elif param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    help = "show this help and exit" if param.name == "help" else _help_of(param)
    default = _default_of(param)
    if default is not None:
        help += f" (default: {default})"
    elif param.required:
        help += " (required)"
    return names, help


class Command(TyperCommand):
    """A command whose help page is plain text: ``Usage: counterplan solve
    [OPTIONS] FOLDER``, arguments and options with their metavars, help and
    defaults, wrapped to the terminal."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            if param.hidden if hasattr(param, "hidden") else False:
                continue
            if param.param_type_name == "argument":
                args.append((param.metavar or (param.name or "").upper(), _help_of(param)))
            else:
                opts.append(_option_record(param))
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _summary(command: Any) -> str:
    """A command's one-line summary: its short help, else the first sentence
    of its help, never cut in the middle."""
    if command.short_help:
        return str(command.short_help)
    text = " ".join((command.help or "").split("\n\n")[0].split())
    first = text.split(". ")[0]
    return first if first.endswith(".") else first + "." if first else ""


class Group(TyperGroup):
    """A group of commands, some registered as ``module:attribute`` and
    imported only when they run (or when their own help is shown)."""

    #: name -> ("module:attribute", one-line summary); see :meth:`App.lazy`
    lazy: ClassVar[dict[str, tuple[str, str]]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = _load(cmd_name, *self.lazy[cmd_name])
        return super().get_command(ctx, cmd_name)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [self.options_metavar or "", self.subcommand_metavar]

    def invoke(self, ctx: Any) -> Any:
        """Run the command; on Ctrl-C say so and exit 130 at once (a solver's
        thread may still be finishing its iteration: nothing waits for it).
        Every command stages its outputs, so nothing half-done is left."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo("\ninterrupted; nothing was written", err=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if not command.hidden:
                    rows.append((name, _summary(command)))
            else:
                rows.append((name, self.lazy[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        opts = [_option_record(p) for p in self.get_params(ctx)]
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)
        self.format_commands(ctx, formatter)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class App(typer.Typer):
    """A Typer whose commands and groups use :class:`Command` and :class:`Group`."""

    def __init__(self, **kwargs: Any) -> None:
        self.lazy_commands: dict[str, tuple[str, str]] = {}
        group = type("AppGroup", (Group,), {"lazy": self.lazy_commands})
        super().__init__(cls=group, rich_markup_mode=None, add_completion=False,
                         pretty_exceptions_enable=False, context_settings=CONTEXT, **kwargs)

    def command(self, name: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Command)
        return super().command(name, **kwargs)

    def lazy(self, name: str, target: str, summary: str) -> None:
        """Register command ``name``, found at ``target`` ("module:attribute",
        a function or a Typer), imported only when it runs or shows its help."""
        self.lazy_commands[name] = (target, summary)


def _load(name: str, target: str, summary: str) -> Any:
    module, attribute = target.split(":")
    found = getattr(import_module(module), attribute)
    if isinstance(found, typer.Typer):
        group = App(help=found.info.help or summary, no_args_is_help=True)
        for info in found.registered_commands:
            group.command(info.name, help=info.help)(info.callback)
        return typer.main.get_group(group)
    single = App()
    single.command(name, short_help=summary)(found)
    return typer.main.get_command(single)


class Console:
    """Where the commands print: results on standard output, progress on
    standard error, nothing but errors with ``quiet``."""

    quiet = False

    def say(self, text: str = "") -> None:
        if not self.quiet:
            typer.echo(text)

    def note(self, text: str) -> None:
        """A remark about the run (a warning, a hint) on standard error."""
        if not self.quiet:
            typer.echo(text, err=True)

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Report a long step on stderr: what, then how long it took."""
        start = time.perf_counter()
        if not self.quiet:
            typer.echo(f"{what} ...", err=True, nl=False)
        try:
            yield
        except BaseException:
            if not self.quiet:
                typer.echo(" stopped", err=True)
            raise
        if not self.quiet:
            typer.echo(f" {time.perf_counter() - start:.2f} s", err=True)


def refuse_busy_port(host: str, port: int) -> None:
    """Raise before a server announces itself on an address it cannot have."""
    import socket

    from counterplan.errors import CounterplanError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CounterplanError(f"cannot listen on {host}: {exc.strerror}; give an address "
                               "such as 127.0.0.1 with --host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise CounterplanError(f"cannot listen on {host}:{port}: {exc.strerror} (another "
                                   "server?); choose another port with --port") from None
