"""The app class: a Flask app whose routes can be added when they are first needed.

Run from the `flask` command, a command such as `flask apikey list` never routes a request, yet
adding the API's and the dashboard's routes imports every one of their modules (schemas, views,
queries): an eighth of the frameworks' own import time. So when the `flask` command line loads
the app, create_app leaves the routes out, and they are added before anything can use them:
the URL map (a request, `url_for`, `flask routes`) or a command that is not MBID-db's own
(`flask openapi`, which reads the document the routes fill).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo


def loaded_by_flask_command() -> bool:
    """Whether the app is being built by the `flask` command line (which loads it in a click
    context holding its ScriptInfo), not by a server, a test or a script."""
    context = click.get_current_context(silent=True)
    return context is not None and context.find_object(ScriptInfo) is not None


class MbidFlask(Flask):
    """Flask, with `add_routes_when_needed`: the routes are added on first use of the URL map
    or of a command that is not among `own_commands`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._add_routes: Callable[[], None] | None = None
        self._adding = False
        self._routes_lock = threading.RLock()
        super().__init__(*args, **kwargs)
        self.own_commands: frozenset[str] = frozenset()
        self.cli = _RoutesOnDemandGroup(self)
        self.cli.name = self.name

    def add_routes_when_needed(self, add_routes: Callable[[], None],
                               own_commands: frozenset[str]) -> None:
        """Call `add_routes` on first need, not now; `own_commands` need no route."""
        self.own_commands = own_commands
        self._add_routes = add_routes

    def add_routes_now(self) -> None:
        """Add the deferred routes, once, whichever thread asks first (the others wait)."""
        with self._routes_lock:
            if self._adding or self._add_routes is None:  # done, or being done by this thread
                return
            self._adding = True
            try:
                self._add_routes()
            finally:
                self._add_routes, self._adding = None, False

    @property
    def url_map(self) -> Any:
        """The URL map, with every route (Flask.__init__ sets it)."""
        if self._add_routes is not None:
            self.add_routes_now()
        return self.__dict__["url_map"]

    @url_map.setter
    def url_map(self, value: Any) -> None:
        self.__dict__["url_map"] = value


class _RoutesOnDemandGroup(AppGroup):
    """app.cli: a command other than MBID-db's own gets the routes added before it runs (not
    when `flask --help` lists it)."""

    def __init__(self, app: MbidFlask) -> None:
        super().__init__()
        self._app = app

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if (command is None or cmd_name in self._app.own_commands
                or self._app._add_routes is None):
            return command
        return _RoutesFirst(command, self._app)


class _RoutesFirst(click.Command):
    """`command`, run once the app's deferred routes are added."""

    def __init__(self, command: click.Command, app: MbidFlask) -> None:
        super().__init__(command.name, hidden=command.hidden)
        self.command, self._app = command, app

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.command.get_short_help_str(limit)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        # The context belongs to the real command: the caller then invokes ctx.command.
        self._app.add_routes_now()
        return self.command.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        self._app.add_routes_now()
        return self.command.invoke(ctx)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self.command.get_params(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.command.get_help(ctx)
