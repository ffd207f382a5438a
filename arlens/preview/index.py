"""``OUT/index.json`` and its journal: what a preview has rendered, durable across Ctrl-C and kill -9.

Every finished render is appended, as one JSON line, to ``OUT/index.journal`` right after its image was
renamed into place (and flushed to the operating system, so a killed process loses nothing it had
recorded). At the end of a run the journal is folded into ``index.json``, written under a temporary name
and renamed, and the journal is emptied. A run that starts reads ``index.json`` and then replays the
journal, ignoring a last line cut short by a kill. So the index never lists an image that is not
completely on disk, and an image on disk that the journal does not list yet is simply rendered again.

One run at a time per output folder: ``OUT/.lock`` is held (``flock``) for the run's whole life.

Records, by ``type``:

- ``render``: ``photo``, ``product``, ``path``, ``thumb``, ``faces`` (found in the photo), ``hands``,
  ``seconds`` (time to render, encode and write it), ``time`` (when, ISO 8601 UTC), ``sha256`` and
  ``bytes`` of the PNG, ``photo_sha256``, ``product_hash``, ``settings`` (see :mod:`arlens.preview.plan`).
- ``photo``: ``photo``, ``file``, ``sha256``, ``width``, ``height``, ``faces``, ``face_boxes``, ``hands``,
  ``hand_boxes``, ``settings``, ``seconds`` (stage one), and ``reason`` when no face was found or the photo
  could not be read.
- ``failed``: ``photo``, ``product``, ``reason``, ``time``.
- ``sheet``: ``path``, ``inputs`` (hash of what is on it), ``sha256``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arlens.errors import InputError

logger = logging.getLogger(__name__)

FORMAT = "arlens.preview.index"
VERSION = 1
INDEX = "index.json"
JOURNAL = "index.journal"
LOCK = ".lock"
TMP = ".tmp"


def utc_now() -> str:
    """Now as ISO 8601 UTC with milliseconds."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def atomic_write(path: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: readers see all of it or nothing.

    The temporary file is in ``tmp_dir`` (same file system as ``path``; default ``path``'s folder), so a
    process killed mid-write leaves a stray temporary file there, never a half-written ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = tmp_dir if tmp_dir is not None else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class OutputLocked(InputError):
    """Another preview run is writing to the same output folder."""


class PreviewIndex:
    """The records of one output folder, loaded from ``index.json`` plus the journal, and appended to.

    Use as a context manager: it takes the folder's lock, clears temporary files a killed run left, and
    on exit closes the journal (call :meth:`write` first to fold it into ``index.json``).

    Raises:
        OutputLocked: another run holds the folder.
        InputError: ``index.json`` is not a preview index (another file of that name is never overwritten).
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.renders: dict[tuple[str, str], dict[str, Any]] = {}
        self.photos: dict[str, dict[str, Any]] = {}
        self.failed: dict[tuple[str, str], dict[str, Any]] = {}
        self.sheets: dict[str, dict[str, Any]] = {}
        self.header: dict[str, Any] = {}
        self._journal = None
        self._lock = None
        self.replayed = 0
        self.torn_lines = 0

    # -- lifetime ---------------------------------------------------------------------------------------
    def __enter__(self) -> PreviewIndex:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tmp_dir(self) -> Path:
        """Where workers write before renaming (``OUT/.tmp``)."""
        return self.out_dir / TMP

    def open(self) -> None:
        """Lock the folder, load the records, clear stray temporary files, open the journal for appending."""
        import fcntl

        self.out_dir.mkdir(parents=True, exist_ok=True)
        lock = open(self.out_dir / LOCK, "a+")  # noqa: SIM115 - held for the run's lifetime
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise OutputLocked(f"output folder {self.out_dir}: expected no other preview writing to it, but "
                               f"another run holds {self.out_dir / LOCK}") from None
        self._lock = lock
        try:
            self._load()
            self._clear_tmp()
            self._journal = open(self.out_dir / JOURNAL, "a", encoding="utf-8")  # noqa: SIM115
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the journal and release the lock (idempotent)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _clear_tmp(self) -> None:
        tmp = self.tmp_dir
        if not tmp.is_dir():
            return
        stray = [p for p in tmp.iterdir() if p.is_file()]
        for p in stray:
            with contextlib.suppress(OSError):
                p.unlink()
        if stray:
            logger.info("removed %d temporary file(s) a stopped run left in %s", len(stray), tmp)

    # -- reading ----------------------------------------------------------------------------------------
    def _load(self) -> None:
        path = self.out_dir / INDEX
        if path.is_file():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InputError(f"{path}: expected a preview index (JSON), got an unreadable file: {exc}") from None
            if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
                raise InputError(f"{path}: expected a preview index (format {FORMAT!r}); refusing to overwrite "
                                 "another file; choose another output folder")
            if doc.get("version") != VERSION:
                raise InputError(f"{path}: expected index version {VERSION}, got {doc.get('version')!r}")
            self.header = {k: v for k, v in doc.items() if k not in ("renders", "photos", "failed", "sheets")}
            for rec in doc.get("photos", []):
                self._apply({"type": "photo", **rec})
            for rec in doc.get("renders", []):
                self._apply({"type": "render", **rec})
            for rec in doc.get("failed", []):
                self._apply({"type": "failed", **rec})
            for rec in doc.get("sheets", []):
                self._apply({"type": "sheet", **rec})
        journal = self.out_dir / JOURNAL
        if journal.is_file():
            with open(journal, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.endswith("\n"):  # the last line of a killed run, cut short
                        self.torn_lines += 1
                        break
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        self.torn_lines += 1
                        continue
                    if isinstance(rec, dict):
                        self._apply(rec)
                        self.replayed += 1
            if self.torn_lines:
                # a torn line must not glue itself to the next record appended
                with open(journal, "rb+") as f:
                    data = f.read()
                    cut = data.rfind(b"\n") + 1
                    f.truncate(cut)

    def _apply(self, rec: Mapping[str, Any]) -> None:
        kind = rec.get("type")
        body = {k: v for k, v in rec.items() if k != "type"}
        if kind == "render":
            key = (str(body["photo"]), str(body["product"]))
            self.renders[key] = body
            self.failed.pop(key, None)
        elif kind == "failed":
            key = (str(body["photo"]), str(body["product"]))
            self.failed[key] = body
            self.renders.pop(key, None)
        elif kind == "photo":
            self.photos[str(body["photo"])] = body
        elif kind == "sheet":
            self.sheets[str(body["path"])] = body

    # -- writing ----------------------------------------------------------------------------------------
    def append(self, records: list[Mapping[str, Any]]) -> None:
        """Record ``records`` (each with a ``type``) in memory and in the journal, flushed to the OS."""
        if self._journal is None:
            raise InputError("PreviewIndex: not open")
        lines = []
        for rec in records:
            self._apply(rec)
            lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._journal.write("".join(lines))
        self._journal.flush()

    def is_done(self, photo: str, product: str, photo_sha: str, product_hash: str, settings: str) -> bool:
        """Whether the render is recorded with these hashes and its file is on disk with the recorded size."""
        rec = self.renders.get((photo, product))
        if rec is None or (rec.get("photo_sha256"), rec.get("product_hash"), rec.get("settings")) != (
            photo_sha, product_hash, settings
        ):
            return False
        try:
            return (self.out_dir / rec["path"]).stat().st_size == rec.get("bytes")
        except (OSError, KeyError):
            return False

    def document(self, header: Mapping[str, Any]) -> dict[str, Any]:
        """The whole index as one JSON document (renders sorted by photo, then product)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            **{k: v for k, v in header.items() if k not in ("format", "version")},
            "photos": [self.photos[k] for k in sorted(self.photos)],
            "renders": [self.renders[k] for k in sorted(self.renders)],
            "failed": [self.failed[k] for k in sorted(self.failed)],
            "sheets": [self.sheets[k] for k in sorted(self.sheets)],
        }

    def write(self, header: Mapping[str, Any]) -> Path:
        """Fold everything into ``index.json`` (atomically) and empty the journal.

        One record per line: readable and diffable, and a third of the time ``indent=`` takes on a
        million renders.
        """
        path = self.out_dir / INDEX
        doc = self.document(header)
        parts = []
        for key, value in doc.items():
            if isinstance(value, list) and key in ("photos", "renders", "failed", "sheets"):
                rows = ",\n".join(json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in value)
                parts.append(f"{json.dumps(key)}: [\n{rows}\n]" if rows else f"{json.dumps(key)}: []")
            else:
                parts.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
        text = "{\n" + ",\n".join(parts) + "\n}\n"
        atomic_write(path, text.encode("utf-8"), self.tmp_dir)
        self.header = dict(header)
        if self._journal is not None:
            self._journal.truncate(0)
            self._journal.seek(0)
        else:
            (self.out_dir / JOURNAL).unlink(missing_ok=True)
        return path
