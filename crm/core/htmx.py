"""One URL serves a page or, to htmx, the partial that page includes."""

from flask import render_template

from crm.extensions import htmx


def render_page_or_partial(page: str, partial: str, **context) -> str:
    """Render `partial` for an htmx request (not a boosted navigation), else the whole `page`."""
    if htmx and not htmx.boosted:
        return render_template(partial, **context)
    return render_template(page, **context)
