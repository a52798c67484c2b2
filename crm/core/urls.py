"""Where to send the user next without opening a redirect to another site."""

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "home.index", **default_args) -> str:
    """`target` if it is a same-site path, else the default endpoint's URL."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for(default_endpoint, **default_args)
