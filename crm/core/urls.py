"""Where to send the user next without opening a redirect to another site; links built in bulk."""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "home.index", **default_args) -> str:
    """`target` if it is a same-site path, else the default endpoint's URL."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for(default_endpoint, **default_args)


# An id no row will have: url_for builds the URL once around it, and the rest is string formatting.
_MARKER = 987654321


def url_pattern(endpoint: str, name: str, **values) -> Callable[[int], str]:
    """url_for(endpoint, **{name: id}, **values) for many ids at the cost of one url_for (~11 µs each:
    a board of 150 groups asks for 600 links). Integer ids only."""
    head, found, tail = url_for(endpoint, **{name: _MARKER}, **values).partition(str(_MARKER))
    if not found:
        raise ValueError(f"{endpoint} does not put {name} in its URL")
    return lambda value: f"{head}{int(value)}{tail}"
