"""Session fixtures shared by every test folder (helpers live in ``tests/support.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def face_tracker():
    """One still-image FaceTracker for the session (its models load once)."""
    import arlens

    with arlens.FaceTracker() as tracker:
        yield tracker
