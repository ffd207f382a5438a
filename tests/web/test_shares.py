"""Shared snapshots: stored only on request, atomically, found by an unguessable ID, and expired."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from arlens.errors import InputError
from arlens.web.options import WebOptions
from arlens.web.shares import ShareNotFound, ShareStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def jpeg() -> bytes:
    return cv2.imencode(".jpg", np.full((48, 64, 3), 200, np.uint8))[1].tobytes()


def test_put_get_and_expiry(tmp_path, jpeg):
    clock = Clock()
    store = ShareStore(tmp_path / "shares", ttl_s=60, max_items=10, clock=clock)
    assert not (tmp_path / "shares").exists() and len(store) == 0  # nothing written before a share
    share = store.put(jpeg, ("LIP-004", "EYE-101"), 64, 48, "session-1")
    assert len(share.id) >= 20 and share.expires == clock.now + 60
    assert store.get(share.id) == share
    assert store.image_path(share.id).read_bytes() == jpeg
    assert sorted(p.name for p in (tmp_path / "shares").iterdir()) == sorted([f"{share.id}.jpg", f"{share.id}.json"])
    other = store.put(jpeg, ("LIP-001",), 64, 48)
    assert other.id != share.id
    clock.now += 61
    with pytest.raises(ShareNotFound) as gone:
        store.get(share.id)
    assert gone.value.expired
    assert not (tmp_path / "shares" / f"{share.id}.jpg").exists()  # removed on read
    assert store.sweep() == 1 and len(store) == 0  # the other one, by the sweep
    assert list((tmp_path / "shares").iterdir()) == []


def test_oldest_go_first_past_the_limit(tmp_path, jpeg):
    clock = Clock()
    store = ShareStore(tmp_path, ttl_s=3600, max_items=3, clock=clock)
    ids = []
    for _ in range(5):
        ids.append(store.put(jpeg, ("LIP-001",), 64, 48).id)
        clock.now += 1
        path = tmp_path / f"{ids[-1]}.json"


        os.utime(path, (clock.now, clock.now))  # mtimes in order even on a coarse file-system clock
    assert len(store) == 3
    for old in ids[:2]:
        with pytest.raises(ShareNotFound):
            store.get(old)
    assert [store.get(i).id for i in ids[2:]] == ids[2:]


def test_bad_ids_and_bad_images_are_refused(tmp_path, jpeg):
    store = ShareStore(tmp_path, ttl_s=60, max_items=10)
    for bad in ("../../etc/passwd", "short", "a" * 200, "x" * 20 + "/y", ""):
        with pytest.raises(ShareNotFound):
            store.get(bad)
    with pytest.raises(InputError, match="JPEG"):
        store.put(b"\x89PNG not jpeg", ("LIP-001",), 1, 1)
    (tmp_path / ("z" * 24 + ".json")).write_text("{broken")
    with pytest.raises(ShareNotFound):
        store.get("z" * 24)
    assert store.sweep() == 1  # an unreadable record is swept too


def test_web_options_are_validated_once():
    assert WebOptions().cors_origins == () and WebOptions().max_upload_bytes == 20 * 1024 * 1024
    for kwargs, words in (({"workers": 0}, "workers"), ({"max_upload_bytes": -1}, "max_upload_bytes"),
                          ({"jpeg_quality": 101}, "jpeg_quality"), ({"share_ttl_s": 0}, "share_ttl_s"),
                          ({"cors_origins": ("shop.example",)}, "cors_origins"),
                          ({"cors_origins": ("https://shop.example/path",)}, "cors_origins"),
                          ({"public_url": "ftp://x"}, "public_url"), ({"workers": True}, "workers"),
                          ({"hands": "off"}, "hands")):
        with pytest.raises(InputError, match=words):
            WebOptions(**kwargs)
    assert WebOptions(public_url="https://try.shop.example/").public_url == "https://try.shop.example"
