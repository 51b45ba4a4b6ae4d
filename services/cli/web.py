"""`liaison serve`, `liaison status` and `liaison token create|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.root import app

token_app = typer.Typer(help="Make and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the webhooks, the API, /metrics and the ops dashboard."""
    import uvicorn

    from services.web.app import create_app
    from shared.db import ensure_schema
    from shared.settings import load_settings

    settings = load_settings()
    ensure_schema(settings)
    uvicorn.run(
        create_app(settings, run_alerts=True),
        host=host,
        port=port,
        log_config=None,  # keep liaison's handler, which masks personal data
        proxy_headers=False,  # signatures are checked against LIAISON_PUBLIC_URL instead
    )


@app.command()
def status(
    lang: Annotated[str, typer.Option("--lang", help="zh-CN or en.")] = "zh-CN",
) -> None:
    """Queues, dead notifications, workers, the scheduler and alerts, as tables."""
    from rich.console import Console
    from sqlalchemy.orm import Session

    from services.notifier import dead_by_reason
    from services.web.alerts import AlertBook
    from services.web.context import WebContext
    from services.web.labels import LANGS, Labels
    from services.web.settings import load_web_settings
    from services.web.snapshot import take_snapshot
    from services.web.status_table import render_status
    from services.web.times import home_root, viewer_timezone
    from shared.db import ensure_schema
    from shared.settings import load_settings

    if lang not in LANGS:
        raise typer.BadParameter(f"{lang!r}; expected zh-CN or en", param_hint="--lang")
    settings = load_settings()
    ensure_schema(settings)
    ctx = WebContext(settings, load_web_settings())
    snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=ctx.clock.now())
    alerts = AlertBook(ctx.redis, ctx.web, None).current(snap)
    tz = viewer_timezone(ctx.engine, home_root(ctx.engine, None))
    with Session(ctx.engine) as session:
        groups = dead_by_reason(session)
    render_status(snap, alerts, Console(), t=Labels(lang), tz=tz, groups=groups)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, org_manager, liaison or ops.")],
    org: Annotated[str | None, typer.Option(help="The organization of an org_manager.")] = None,
    liaison: Annotated[str | None, typer.Option(help="The liaison of a liaison token.")] = None,
    label: Annotated[str | None, typer.Option(help="A note on whose token it is.")] = None,
    expires_days: Annotated[
        int | None,
        typer.Option(min=1, help="Refuse the token this many days from now (default: never)."),
    ] = None,
) -> None:
    """Make a token and print it once; only its hash is kept."""
    from datetime import timedelta

    from services.cli.known import require_known
    from services.web.tokens import create_token
    from shared.clock import SystemClock
    from shared.db import ensure_schema
    from shared.settings import load_settings

    engine = ensure_schema(load_settings())
    require_known(engine, org=org, liaison=liaison)
    now = SystemClock().now()
    expires_at = now + timedelta(days=expires_days) if expires_days is not None else None
    issued = create_token(
        engine, role, now=now, org=org, liaison_id=liaison, label=label, expires_at=expires_at
    )
    until = f", expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    typer.echo(f"token {issued.id} ({role}{until}); shown once, keep it safe:")
    typer.echo(issued.token)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token by its id."""
    from services.web.tokens import revoke_token
    from shared.clock import SystemClock
    from shared.db import ensure_schema
    from shared.errors import NotFound
    from shared.settings import load_settings

    engine = ensure_schema(load_settings())
    if not revoke_token(engine, token_id, now=SystemClock().now()):
        raise NotFound(f"no live token with id {token_id}")
    typer.echo(f"token {token_id} revoked")
