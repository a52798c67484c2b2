"""No garbage collection while a request runs: it runs when the request is over.

CPython 3.11 (3.11.7 on these machines) can crash the process with SIGSEGV when a collection starts in
the middle of SQLAlchemy loading rows and a collected object's weakref callback writes to the instance
state being written (a use-after-free in the interpreter, seen under valgrind; 3.12 does not crash). It
showed on the dealer lead's progress board: 8 of 60 requests in a row killed their gunicorn worker. Pausing
collection for the request removes the window and keeps collection pauses out of page times; the
request's garbage is collected as soon as collection resumes.

gunicorn.conf.py pauses it from before the request is read until after the response is sent; then
the request finds collection already paused and leaves the resuming to gunicorn. Background jobs run
paused too (`paused()`). Memory stays bounded: the 300-estate battle-map and traffic-map PDFs peaked
at 270 MB paused against 266 MB collected (benchmarks/pdf_render.py), and rendered faster.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g


def init_app(app: Flask) -> None:
    """Register first among the request hooks, so loading the user already runs paused."""

    @app.before_request
    def _pause_collection():
        g._resume_collection = gc.isenabled()
        gc.disable()

    @app.teardown_appcontext
    def _resume_collection(_exc):
        # Registered before the hook that closes the session, so it runs after it (teardowns run in reverse).
        if g.pop("_resume_collection", False):
            gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """No collection inside the block (a background job); what it left behind is collected after it."""
    resume = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if resume:
            gc.enable()
