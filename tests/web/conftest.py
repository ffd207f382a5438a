"""Fixtures of the web service's tests: an app under FastAPI's test client, test photos as upload bytes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'arlens[web]')")
pytest.importorskip("multipart", reason="the web extra is not installed (pip install 'arlens[web]')")

from fastapi.testclient import TestClient  # noqa: E402

from arlens.web import WebOptions, create_app  # noqa: E402
from tests.support import read_image  # noqa: E402


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    return read_image("faces/astronaut.png")


@pytest.fixture(scope="session")
def portrait_png(portrait) -> bytes:
    return cv2.imencode(".png", portrait)[1].tobytes()


@pytest.fixture(scope="session")
def portrait_jpeg(portrait) -> bytes:
    return cv2.imencode(".jpg", portrait, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


@pytest.fixture(scope="session")
def blank_png() -> bytes:
    """A grey picture with no face or hand in it."""
    return cv2.imencode(".png", np.full((240, 320, 3), 128, np.uint8))[1].tobytes()


def make_client(tmp_path, **overrides) -> TestClient:
    """A test client of an app with one render worker and shares under ``tmp_path`` (use it with ``with``)."""
    options = {"workers": 1, "share_dir": tmp_path / "shares", **overrides}
    catalog = options.pop("catalog", None)
    raise_server_exceptions = options.pop("raise_server_exceptions", True)
    return TestClient(create_app(WebOptions(**options), catalog=catalog),
                      raise_server_exceptions=raise_server_exceptions)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One app for a module's tests (its models load once); events go to ``client.events_path``."""
    tmp = tmp_path_factory.mktemp("web")
    with make_client(tmp, events=tmp / "events.jsonl") as c:
        c.events_path = tmp / "events.jsonl"
        c.share_dir = tmp / "shares"
        yield c
