"""Shared snapshots: stored only when a shopper asks to share one, under one folder, and deleted when they expire.

Each share is two files named by an unguessable ID (``secrets.token_urlsafe``): ``<id>.jpg``, the mirrored
try-on image, and ``<id>.json``, what the share page needs (product IDs worn, creation and expiry time).
Both are written to a temporary name and renamed into place, so a reader never sees half a file and a
crash never leaves a share without its image. Expired shares are refused on read and removed by
:meth:`ShareStore.sweep` (the service runs it periodically); when more than ``max_items`` are stored the
oldest are removed first, so the folder cannot grow without bound.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arlens.errors import InputError

logger = logging.getLogger(__name__)

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ShareNotFound(InputError):
    """No share with this ID (never stored, removed, or expired)."""

    def __init__(self, share_id: str, expired: bool = False) -> None:
        super().__init__(f"share {share_id!r}: {'expired' if expired else 'not found'}")
        self.expired = expired


@dataclass(frozen=True)
class Share:
    """A stored snapshot's record.

    Attributes:
        id: the URL-safe ID.
        products: IDs of the products worn in it, in drawing order.
        created, expires: Unix times in seconds.
        width, height: the image's size in pixels.
        session_id: the try-on session that took it (an opaque ID).
    """

    id: str
    products: tuple[str, ...]
    created: float
    expires: float
    width: int
    height: int
    session_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "products": list(self.products), "created": self.created, "expires": self.expires,
                "width": self.width, "height": self.height, "session_id": self.session_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Share:
        return cls(str(data["id"]), tuple(str(p) for p in data["products"]), float(data["created"]),
                   float(data["expires"]), int(data["width"]), int(data["height"]), str(data.get("session_id", "")))


class ShareStore:
    """Shared snapshots in a folder (see the module docstring). Thread-safe.

    Args:
        folder: where shares are stored (created on the first share, not before).
        ttl_s: seconds a share lives.
        max_items: most shares kept.
        clock: Unix time in seconds (for tests).
    """

    def __init__(self, folder: str | Path, ttl_s: float, max_items: int, clock: Any = time.time) -> None:
        if not ttl_s > 0 or max_items < 1:
            raise InputError(f"ShareStore: expected ttl_s > 0 and max_items >= 1, got {ttl_s!r}, {max_items!r}")
        self.folder = Path(folder)
        self.ttl_s = float(ttl_s)
        self.max_items = int(max_items)
        self._clock = clock
        self._lock = threading.Lock()

    def put(self, jpeg: bytes, products: tuple[str, ...], width: int, height: int, session_id: str = "") -> Share:
        """Store a JPEG image and its products; returns the new share.

        Raises:
            InputError: not JPEG bytes.
            OSError: the folder cannot be written.
        """
        if not isinstance(jpeg, bytes | bytearray) or not bytes(jpeg[:3]) == b"\xff\xd8\xff":
            raise InputError("share image: expected JPEG bytes")
        now = self._clock()
        share = Share(secrets.token_urlsafe(18), tuple(products), now, now + self.ttl_s, int(width), int(height),
                      session_id)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.folder / f"{share.id}.jpg", bytes(jpeg))
            _write_atomic(self.folder / f"{share.id}.json", json.dumps(share.to_dict()).encode("utf-8"))
            self._evict_over_limit()
        logger.info("stored share %s (%s), expires in %.0f s", share.id, ", ".join(products), self.ttl_s)
        return share

    def get(self, share_id: str) -> Share:
        """The share with this ID.

        Raises:
            ShareNotFound: unknown, malformed or expired ID (an expired one is removed).
        """
        path = self._path(share_id, ".json")
        try:
            share = Share.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            raise ShareNotFound(share_id) from None
        if share.expires <= self._clock():
            self._remove(share.id)
            raise ShareNotFound(share_id, expired=True)
        return share

    def image_path(self, share_id: str) -> Path:
        """The JPEG of a live share.

        Raises:
            ShareNotFound: as :meth:`get`.
        """
        self.get(share_id)
        path = self._path(share_id, ".jpg")
        if not path.is_file():
            raise ShareNotFound(share_id)
        return path

    def sweep(self) -> int:
        """Remove expired shares (and stray temporary files); returns how many shares were removed."""
        if not self.folder.is_dir():
            return 0
        now = self._clock()
        removed = 0
        with self._lock:
            for meta in self.folder.glob("*.json"):
                try:
                    expires = float(json.loads(meta.read_text(encoding="utf-8"))["expires"])
                except (OSError, ValueError, KeyError, TypeError):
                    expires = 0.0  # unreadable: treat as expired
                if expires <= now:
                    self._remove(meta.stem)
                    removed += 1
            for tmp in self.folder.glob(".tmp-*"):
                try:
                    if now - tmp.stat().st_mtime > 60:
                        tmp.unlink()
                except OSError:
                    pass
            for image in self.folder.glob("*.jpg"):  # an image whose record is gone
                if not image.with_suffix(".json").exists():
                    image.unlink(missing_ok=True)
        return removed

    def __len__(self) -> int:
        return len(list(self.folder.glob("*.json"))) if self.folder.is_dir() else 0

    def _path(self, share_id: str, suffix: str) -> Path:
        if not isinstance(share_id, str) or not _ID_RE.match(share_id):
            raise ShareNotFound(str(share_id)[:80])
        return self.folder / f"{share_id}{suffix}"

    def _remove(self, share_id: str) -> None:
        for suffix in (".json", ".jpg"):
            try:
                (self.folder / f"{share_id}{suffix}").unlink(missing_ok=True)
            except OSError:
                logger.warning("cannot remove share %s%s", share_id, suffix, exc_info=True)

    def _evict_over_limit(self) -> None:
        metas = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for meta in metas[: max(0, len(metas) - self.max_items)]:
            self._remove(meta.stem)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
