"""The settings of a catalog preview job and what it reports back."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from arlens.catalog.links import UtmTags
from arlens.errors import InputError

ENGINES = ("local", "ray")


def _positive_int(name: str, value: object, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"PreviewOptions.{name}: expected an int >= 1, got {value!r}")


@dataclass(frozen=True)
class PreviewOptions:
    """How a catalog preview runs, validated once when built.

    Attributes:
        engine: ``"local"`` (a process pool on this machine) or ``"ray"`` (actors on a local Ray or a cluster).
        workers: worker processes (local) or actors (Ray); default: this machine's CPU count (local) or the
            cluster's CPUs divided by ``cpus_per_worker`` (Ray).
        ray_address: a running Ray cluster to join (``"auto"``, ``"ray://head:10001"``, ``"10.0.0.1:6379"``);
            None starts a local Ray (or uses the one this process already started).
        cpus_per_worker: CPUs each Ray actor asks for; its ONNX Runtime and OpenCV thread counts equal the
            CPUs Ray gives it (ONNX Runtime ignores ``OMP_NUM_THREADS``). Local workers use one thread each.
        batch_size: renders per stage-two task (a task builds each of its products' lenses once and renders
            them on its photos); a run keeps at least two tasks per worker when it can.
        photos_per_task: most photos in one stage-two task.
        max_faces: faces tracked per photo (each gets the product).
        max_hands: hands tracked per photo when a hand product (nail polish) is selected.
        fov_y_deg: vertical field of view assumed for the photos (head pose and eyewear projection).
        lipstick_backend: ``"numpy"`` or ``"onnx"``, as :class:`~arlens.session.TryOnOptions`.
        utm: tags of the buy links on the gallery page.
        thumb_size: side in pixels of the close-ups on sheets and the gallery.
        sheet_columns: tiles per row of a contact sheet.
        sheet_max_tiles: tiles per sheet image; longer sheets continue in ``-2``, ``-3``, ... files.
        page_size: products per gallery page.
        title: the gallery's heading (default: the brands' names).
        force: render everything again, even what the index says is up to date.
        lens_cache: lenses a worker keeps built between tasks (eyewear lenses hold an OpenGL context each).
        max_live_photos: most photos whose stage-one result (image, faces, hands, scene) is held at once;
            default four per worker. Bounds memory on big photo sets.
    """

    engine: Literal["local", "ray"] = "local"
    workers: int | None = None
    ray_address: str | None = None
    cpus_per_worker: int = 1
    batch_size: int = 16
    photos_per_task: int = 4
    max_faces: int = 1
    max_hands: int = 2
    fov_y_deg: float = 63.0
    lipstick_backend: str = "numpy"
    utm: UtmTags = field(default_factory=UtmTags)
    thumb_size: int = 240
    sheet_columns: int = 6
    sheet_max_tiles: int = 60
    page_size: int = 100
    title: str | None = None
    force: bool = False
    lens_cache: int = 32
    max_live_photos: int | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InputError(f"PreviewOptions.engine: expected one of {', '.join(ENGINES)}, got {self.engine!r}")
        _positive_int("workers", self.workers, allow_none=True)
        _positive_int("max_live_photos", self.max_live_photos, allow_none=True)
        for name in ("cpus_per_worker", "batch_size", "photos_per_task", "max_faces", "max_hands", "sheet_columns",
                     "sheet_max_tiles", "page_size", "lens_cache"):
            _positive_int(name, getattr(self, name))
        if self.ray_address is not None and (not isinstance(self.ray_address, str) or not self.ray_address.strip()):
            raise InputError(f"PreviewOptions.ray_address: expected an address such as 'auto' or "
                             f"'ray://head:10001', got {self.ray_address!r}")
        if self.ray_address is not None and self.engine != "ray":
            raise InputError("PreviewOptions.ray_address: only the 'ray' engine joins a cluster; "
                             f"got engine={self.engine!r}")
        if isinstance(self.fov_y_deg, bool) or not isinstance(self.fov_y_deg, int | float) or not (
            math.isfinite(self.fov_y_deg) and 1.0 <= self.fov_y_deg <= 170.0
        ):
            raise InputError(f"PreviewOptions.fov_y_deg: expected a value in [1, 170], got {self.fov_y_deg!r}")
        if self.lipstick_backend not in ("numpy", "onnx"):
            raise InputError(f"PreviewOptions.lipstick_backend: expected 'numpy' or 'onnx', got "
                             f"{self.lipstick_backend!r}")
        if not isinstance(self.utm, UtmTags):
            raise InputError(f"PreviewOptions.utm: expected UtmTags, got {type(self.utm).__name__}")
        size = self.thumb_size
        if isinstance(size, bool) or not isinstance(size, int) or not 64 <= size <= 1024:
            raise InputError(f"PreviewOptions.thumb_size: expected an int in [64, 1024], got {self.thumb_size!r}")
        if self.title is not None and not isinstance(self.title, str):
            raise InputError(f"PreviewOptions.title: expected text, got {type(self.title).__name__}")


@dataclass(frozen=True)
class Problem:
    """One thing a preview left out, and why.

    Attributes:
        photo: the photo's name in the output (its file stem), or "" for a product-level problem.
        product: the product ID, or "" for a photo-level problem.
        reason: one line saying what went wrong.
    """

    photo: str
    product: str
    reason: str

    def __str__(self) -> str:
        what = " on ".join(x for x in (self.product, self.photo) if x)
        return f"{what}: {self.reason}" if what else self.reason


@dataclass(frozen=True)
class PreviewReport:
    """What a preview run did.

    Attributes:
        out_dir: the output folder.
        index: ``OUT/index.json``.
        gallery: the gallery's first page (``OUT/index.html``), or None when the run was interrupted.
        rendered: renders made in this run.
        up_to_date: renders already in the index with the same photo, product and settings (not redone).
        not_drawn: (photo, product) pairs left out because the photo shows no face (or hand) to draw on.
        failed: renders that failed (with the reason), including a worker that died twice on them.
        bad_photos: photos that could not be read or decoded.
        unknown_products: requested product IDs that are not in the catalog.
        skipped_products: products of a kind no lens draws.
        photos: photos in the run; products: products in the run.
        seconds: wall time of the whole run.
        render_seconds: wall time of the two stages (from the first task, workers already started, to the
            last render); ``images_per_second`` divides by it.
        interrupted: the run was stopped (Ctrl-C) before the end; everything recorded is in the index.
        worker_stats: per worker at the end: process ID and peak resident memory (MiB), and, from Ray
            actors, their thread count and how many photos, renders, sheets and lens builds they did.
    """

    out_dir: Path
    index: Path
    gallery: Path | None
    rendered: int
    up_to_date: int
    not_drawn: tuple[Problem, ...] = ()
    failed: tuple[Problem, ...] = ()
    bad_photos: tuple[Problem, ...] = ()
    unknown_products: tuple[str, ...] = ()
    skipped_products: tuple[Problem, ...] = ()
    photos: int = 0
    products: int = 0
    seconds: float = 0.0
    render_seconds: float = 0.0
    interrupted: bool = False
    worker_stats: tuple[dict, ...] = ()

    @property
    def images_per_second(self) -> float:
        """Renders made per second of rendering wall time (0 when nothing was rendered)."""
        return self.rendered / self.render_seconds if self.rendered and self.render_seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Nothing failed, no photo was unreadable and every requested product was known."""
        return not (self.failed or self.bad_photos or self.unknown_products)

    def summary(self) -> str:
        """The one-line summary: renders, skipped, failed with reasons, images per second."""
        parts = [f"{self.rendered} rendered", f"{self.up_to_date} up to date"]
        skipped = len(self.not_drawn) + len(self.skipped_products) + len(self.unknown_products) + len(
            self.bad_photos)
        if skipped:
            reasons = _count_reasons(
                [_short(p.reason) for p in self.not_drawn]
                + ["no lens for the kind"] * len(self.skipped_products)
                + ["unknown product"] * len(self.unknown_products)
                + ["unreadable photo"] * len(self.bad_photos)
            )
            parts.append(f"{skipped} skipped ({reasons})")
        if self.failed:
            parts.append(f"{len(self.failed)} failed ({_count_reasons([_short(p.reason) for p in self.failed])})")
        else:
            parts.append("0 failed")
        parts.append(f"{self.images_per_second:.1f} images/s")
        text = ", ".join(parts) + f" in {self.seconds:.1f} s"
        return ("interrupted: " if self.interrupted else "") + text


def _short(reason: str) -> str:
    return reason.split(":", 1)[0].strip()[:80]


def _count_reasons(reasons: list[str]) -> str:
    counts: dict[str, int] = {}
    for r in reasons:
        counts[r] = counts.get(r, 0) + 1
    return "; ".join(f"{r} x{n}" if n > 1 else r for r, n in counts.items())
