"""One URL serves a page or, to htmx, the partial that page includes."""

from flask import render_template

from crm.extensions import htmx


def render_page_or_partial(page_template: str, partial_template: str, **context) -> str:
    """Render the partial for an htmx request (not a boosted navigation), else the whole page."""
    if htmx and not htmx.boosted:
        return render_template(partial_template, **context)
    return render_template(page_template, **context)
