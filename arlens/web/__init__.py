"""The web try-on service behind ``arlens serve``: a browser mirror page, share pages and the ``/v1`` HTTP API.

Needs the ``web`` extra (``pip install "arlens[web]"``: FastAPI, uvicorn, python-multipart, websockets);
``import arlens`` never imports it. Build the app with :func:`create_app` and run it with uvicorn::

    from arlens.web import WebOptions, create_app
    app = create_app(WebOptions(products=("LIP-004",)))      # uvicorn.run(app, host="127.0.0.1", port=8000)

Modules: :mod:`~arlens.web.options` (settings), :mod:`~arlens.web.app` (factory and lifespan),
:mod:`~arlens.web.pool` (render lanes), :mod:`~arlens.web.mirror` (a page's session),
:mod:`~arlens.web.routes` (one router per resource), :mod:`~arlens.web.shares` (shared snapshots),
:mod:`~arlens.web.uploads` (body limit), :mod:`~arlens.web.errors` (errors as JSON),
:mod:`~arlens.web.models` (request and response bodies), ``static/`` (the page, no build step).
"""

from __future__ import annotations

from arlens.web.options import WebOptions

__all__ = ["WebOptions", "create_app"]


def create_app(*args, **kwargs):
    """See :func:`arlens.web.app.create_app` (imported on first use: FastAPI loads only then)."""
    from arlens.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)
