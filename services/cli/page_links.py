"""`liaison page-link issue|revoke`: the signed links that open a liaison's page."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.root import app

page_link_app = typer.Typer(
    help="Issue and revoke links to a liaison's page (/p/…).", no_args_is_help=True
)
app.add_typer(page_link_app, name="page-link")


@page_link_app.command("issue")
def issue(
    liaison: Annotated[str, typer.Argument(help="The liaison's id.")],
    days: Annotated[
        int | None,
        typer.Option(min=1, max=366, help="Valid this many days (default LIAISON_PAGE_LINK_DAYS)."),
    ] = None,
) -> None:
    """Make a link to the liaison's page and print it (anyone holding it sees the page)."""
    from shared.clock import SystemClock
    from shared.db import ensure_schema, transaction
    from shared.models import Liaison
    from shared.page_links import issue_link, load_page_settings
    from shared.settings import load_settings

    page = load_page_settings()
    page.require_secret()
    engine = ensure_schema(load_settings())
    with transaction(engine) as session:
        link = issue_link(
            session, page, liaison, now=SystemClock().now(), issued_by="cli", days=days
        )
        name = session.get(Liaison, liaison)
    who = f"{liaison} ({name.name})" if name is not None else liaison
    typer.echo(f"link {link.link_id} for {who}, expires {link.expires_at:%Y-%m-%d %H:%M} UTC:")
    typer.echo((page.public_url or "") + link.path)


@page_link_app.command("revoke")
def revoke(
    link_id: Annotated[
        int | None, typer.Argument(help="The link's id (the number before -).")
    ] = None,
    liaison: Annotated[
        str | None, typer.Option(help="Revoke every live link of this liaison.")
    ] = None,
) -> None:
    """Revoke one link, or every live link of a liaison."""
    from shared.clock import SystemClock
    from shared.db import ensure_schema, transaction
    from shared.errors import NotFound
    from shared.page_links import revoke_links
    from shared.settings import load_settings

    if (link_id is None) == (liaison is None):
        raise typer.BadParameter("name a link id or --liaison, not both and not neither")
    engine = ensure_schema(load_settings())
    with transaction(engine) as session:
        count = revoke_links(session, now=SystemClock().now(), link_id=link_id, liaison_id=liaison)
    if count == 0:
        what = f"link {link_id}" if link_id is not None else f"liaison {liaison!r}"
        raise NotFound(f"no live link for {what}")
    typer.echo(f"{count} link(s) revoked")
