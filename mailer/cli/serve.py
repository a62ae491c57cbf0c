"""``run.py serve``: the web pages (one-click unsubscribe, preferences, the lead's page) on
uvicorn; and the same server started beside the worker when ``[web] enabled`` is set.

Beside the worker the server runs in its own thread with its own database connections, so a
long tick never holds up a one-click POST and a busy page never holds up a tick (SQLite's WAL
lets both read while one writes; writes wait at most the store's busy timeout).
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING

import click

from mailer.app import App
from mailer.cli.now import parse_now
from mailer.errors import MailerError
from mailer.web.context import WebContext, clock_from, load_context
from mailer.web.tokens import rotate_key

if TYPE_CHECKING:
    import uvicorn


def make_server(ctx: WebContext, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for ``ctx``'s app. No access log: paths hold signed links."""
    # Imported here, not with the command list: uvicorn and the pages are 10 MB of a `tick`
    # process's memory and a quarter of its start-up, and only a server needs them.
    import uvicorn

    from mailer.web.app import create_app

    config = uvicorn.Config(create_app(ctx), host=host, port=port, log_level="warning",
                            access_log=False, server_header=False, proxy_headers=True)
    return uvicorn.Server(config)


def banner(ctx: WebContext, host: str, port: int) -> str:
    """The line printed when the server starts: where it listens and where it is public."""
    public = ctx.settings.web_base_url or "no [web] base_url set: emails carry no web links"
    return f"cop-mailer serve on http://{host}:{port} ({public})"


@click.command()
@click.option("--host", help="Address to listen on (default: [web] host).")
@click.option("--port", type=int, help="Port to listen on (default: [web] port).")
@click.option("--now", "now_text", help="Run as if the clock read this at start (ISO 8601); time runs on "
              "from there. For trying later days of a challenge, and tests.")
@click.option("--rotate-key", is_flag=True, help="Retire the signing key of links and make a new one "
              "(links signed with the old key work for [web] old_key_days more), then exit.")
@click.pass_obj
def serve(app: App, host: str | None, port: int | None, now_text: str | None, rotate_key: bool) -> None:
    """Run the web pages: one-click unsubscribe, members' preferences, the lead's page."""
    settings = app.settings
    if rotate_key:
        until = rotate_key_now(app, parse_now(now_text))
        click.echo(f"new signing key made; links signed with the old one work until {until:%Y-%m-%d %H:%M} UTC")
        return
    app.db  # noqa: B018 - create and seed the database on a first run, as the worker does
    ctx = load_context(app.home, clock_from(parse_now(now_text) if now_text else None))
    host, port = host or settings.web_host, port if port is not None else settings.web_port
    server = make_server(ctx, host, port)
    click.echo(banner(ctx, host, port) + "; Ctrl-C to stop")
    server.run()
    click.echo("stopped")


def rotate_key_now(app: App, now: datetime) -> datetime:
    """Rotate the home's link key at ``now``; return until when the old key's links work."""
    return rotate_key(app.home, now, app.settings.web_old_key_days)


class BesideWorker:
    """With ``[web] enabled``: the web server in a thread of the worker's process (the worker,
    in the main thread, keeps SIGINT/SIGTERM); without it, nothing."""

    def __init__(self, app: App) -> None:
        """Nothing starts yet: ``start`` once the worker handles its signals and the database exists."""
        self.app, self.server, self.thread = app, None, None

    def start(self) -> None:
        """Start the server and wait until it listens; ``MailerError`` when it cannot."""
        settings = self.app.settings
        if not settings.web_enabled:
            return
        ctx = load_context(self.app.home)
        self.server = make_server(ctx, settings.web_host, settings.web_port)
        self.thread = threading.Thread(target=self.server.run, name="serve", daemon=True)
        self.thread.start()
        while not self.server.started and self.thread.is_alive():  # uvicorn ends its thread when it cannot bind
            time.sleep(0.05)
        if not self.server.started:
            raise MailerError(f"the web pages could not listen on {settings.web_host}:{settings.web_port} "
                              "(is another program using that port? [web] port sets it)")
        click.echo(banner(ctx, settings.web_host, settings.web_port))

    def stop(self) -> None:
        """Let the server finish what it is answering, then end its thread."""
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
