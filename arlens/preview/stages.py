"""The two stages of a preview and the worker that runs them: the same code under every engine.

Stage one, once per photo (:meth:`PreviewWorker.prepare`): decode the photo, track faces and hands with
the ONNX models, build the photo's :class:`~arlens.scene.Scene` and compute what every lens reads from it
(each face's pose, light and skin and lip colours with the hands in front of the mouth left out, each
hand's silhouette), and return a :class:`PhotoContext`, the value every render of that photo starts from.
Hands are tracked on every photo with a face, not only for nail products: they are the occluders that
keep lipstick off a hand over the mouth.

Stage two, per product and batched (:meth:`PreviewWorker.render`): a task carries several products and
the contexts of a few photos; each product's lens is built once (from the lens registry) and drawn on
each photo with the photo's precomputed faces or hands, then the PNG and its close-up are written
atomically. No render runs a tracker.

The local engine runs a :class:`PreviewWorker` in each pool process and Ray in each actor, and both call
exactly these methods, so both write the same images, pixel for pixel.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arlens.lenses.base import takes_scene
from arlens.preview.index import TMP, atomic_write, utc_now

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoContext:
    """Stage one's result for one photo: what every render of it starts from.

    Attributes:
        name: the photo's name in the output.
        image: uint8 BGR (H, W, 3), the decoded photo (read-only; the scene's own frame, so it travels once).
        faces: faces found, best first.
        hands: hands found.
        scene: the photo's :class:`~arlens.scene.Scene`, its per-face and per-hand values already computed;
            every lens gets it as ``scene=``. None only for a context built without one.
    """

    name: str
    image: np.ndarray
    faces: tuple[Any, ...] = ()
    hands: tuple[Any, ...] = ()
    scene: Any = None

    def __post_init__(self) -> None:
        if self.image.flags.writeable:
            self.image.setflags(write=False)

    def targets(self, target: str) -> tuple[Any, ...]:
        """The faces or the hands, as a lens's ``target`` asks."""
        return self.hands if target == "hand" else self.faces


@dataclass(frozen=True)
class PhotoTask:
    """Stage one's input: a photo's name and its file's bytes (the driver reads them, so workers need no
    access to where photos are kept)."""

    name: str
    data: bytes
    track_faces: bool = True
    track_hands: bool = False


@dataclass(frozen=True)
class RenderItem:
    """One render of a stage-two task: a product on a photo, and where it goes."""

    photo: str
    product: str
    path: str
    thumb: str


@dataclass(frozen=True)
class SheetTile:
    """One tile of a contact sheet: a close-up (path relative to the output) and its caption."""

    image: str
    title: str
    subtitle: str
    swatch: str | None = None


@dataclass(frozen=True)
class SheetTask:
    """A contact sheet to compose: its tiles, heading, and the file it goes to (relative to the output)."""

    path: str
    heading: str
    tiles: tuple[SheetTile, ...]
    columns: int = 6


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs, sent once when it starts.

    Attributes:
        out_dir: the output folder (every worker must see it at this path: a shared file system on a cluster).
        catalog: the run's catalog (products are named by ID in tasks).
        registry: kind -> lens.
        options: the run's :class:`~arlens.preview.options.PreviewOptions`.
        threads: ONNX Runtime and OpenCV threads in this worker.
    """

    out_dir: str
    catalog: Any
    registry: Any
    options: Any
    threads: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MiB (Linux ``VmHWM``; ``ru_maxrss`` elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _crop_box(targets: Sequence[Any], shape: tuple[int, ...]) -> np.ndarray:
    if targets:
        return np.asarray(targets[0].bbox, dtype=np.float64)
    h, w = shape[:2]
    side = min(h, w) / 1.6
    return np.array([(w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2])


def _jpeg(image: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise OSError("cannot encode a JPEG close-up")
    return data.tobytes()


class PreviewWorker:
    """Holds what is expensive to build (trackers with their ONNX sessions, lenses with their GL contexts)
    and runs the stages. One per pool process or Ray actor; not thread-safe."""

    def __init__(self, setup: WorkerSetup) -> None:
        import cv2

        self.setup = setup
        self.out = Path(setup.out_dir)
        self.tmp = self.out / TMP
        self.options = setup.options
        cv2.setNumThreads(max(1, int(setup.threads)))
        self._face_tracker: Any = None
        self._hand_tracker: Any = None
        self._lenses: OrderedDict[str, tuple[Any, Any] | BaseException] = OrderedDict()
        self._cameras: dict[tuple[int, int], Any] = {}
        self.counts = {"photos": 0, "renders": 0, "sheets": 0, "lens_builds": 0}

    # -- lifetime ---------------------------------------------------------------------------------------
    def close(self) -> None:
        """Release trackers and lenses."""
        for tracker in (self._face_tracker, self._hand_tracker):
            if tracker is not None:
                tracker.close()
        self._face_tracker = self._hand_tracker = None
        while self._lenses:
            _, entry = self._lenses.popitem()
            self._close_lens(entry)

    @staticmethod
    def _close_lens(entry: tuple[Any, Any] | BaseException) -> None:
        if isinstance(entry, tuple) and hasattr(entry[0], "close"):
            try:
                entry[0].close()
            except Exception:  # releasing a GL context must not fail a render
                logger.debug("closing a lens failed", exc_info=True)

    def stats(self) -> dict[str, Any]:
        """This worker's process ID, peak memory and counts (for benchmarks and logs)."""
        return {"pid": os.getpid(), "peak_rss_mb": peak_rss_mb(), "threads": self.setup.threads, **self.counts}

    def _runtime(self) -> Any:
        from arlens.runtime import RuntimeOptions

        return RuntimeOptions(intra_op_threads=max(1, int(self.setup.threads)))

    def _faces(self) -> Any:
        if self._face_tracker is None:
            from arlens.tracking.face import FaceTracker

            self._face_tracker = FaceTracker(max_faces=self.options.max_faces, fov_y_deg=float(self.options.fov_y_deg),
                                             runtime=self._runtime())
        return self._face_tracker

    def _hands(self) -> Any:
        if self._hand_tracker is None:
            from arlens.tracking.hand import HandTracker

            self._hand_tracker = HandTracker(max_hands=self.options.max_hands, runtime=self._runtime())
        return self._hand_tracker

    # -- stage one --------------------------------------------------------------------------------------
    def prepare(self, task: PhotoTask) -> tuple[dict[str, Any], PhotoContext | None]:
        """Decode and track one photo; returns (its index record fields, its context or None if unreadable).

        Also writes the photo's own close-up, ``photos/<name>.jpg``, the "before" tile of its sheets.
        """

        from arlens.demo import face_crop
        from arlens.errors import InputError
        from arlens.image import as_bgr, decode_image

        # trackers are built (once per worker) before the clock starts: "seconds" is this photo's own cost
        face_tracker = self._faces() if task.track_faces else None
        hand_tracker = self._hands()
        t0 = time.perf_counter()
        try:  # arlens' image boundary: the header's pixel count is checked before anything is decoded
            image = as_bgr(decode_image(task.data, name=task.name), f"photo {task.name}")
        except InputError as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return {"photo": task.name, "reason": f"unreadable photo: {text.removeprefix(task.name + ': ')}"}, None
        faces = tuple(face_tracker.detect(image)) if face_tracker is not None else ()
        # hands: what nail products are drawn on, and what covers a face (the scene's occluders)
        track_hands = task.track_hands or bool(faces)
        hands = tuple(hand_tracker.detect(image)) if track_hands else ()
        scene = self._scene(image, faces, hands)
        context = PhotoContext(task.name, scene.frame, faces, hands, scene)
        crop = face_crop(image, _crop_box(faces or hands, image.shape), size=self.options.thumb_size)
        atomic_write(self.out / "photos" / f"{task.name}.jpg", _jpeg(crop), self.tmp)
        first = self.counts["photos"] == 0
        self.counts["photos"] += 1
        summary = {
            "photo": task.name,
            "width": int(image.shape[1]),
            "height": int(image.shape[0]),
            "faces": len(faces),
            "face_boxes": [[round(float(v), 1) for v in f.bbox] for f in faces],
            "hands": len(hands),
            "hand_boxes": [[round(float(v), 1) for v in h.bbox] for h in hands],
            "hands_tracked": bool(track_hands),
            "thumb": f"photos/{task.name}.jpg",
            "seconds": round(time.perf_counter() - t0, 6),
        }
        if first:  # ONNX Runtime's first runs in a process allocate and plan: not this photo's own cost
            summary["first_on_worker"] = True
        return summary, context

    def _scene(self, image: np.ndarray, faces: tuple[Any, ...], hands: tuple[Any, ...]) -> Any:
        """The photo's scene with every per-photo value computed now, in stage one.

        A Scene computes lazily; computed here, the values travel to stage two inside the context
        (``cached_property`` values are pickled with it), so no render task computes them again. Values a
        lens asks for a region of its own (the occlusion over its lip box) are still computed by the lens,
        once per task.
        """
        from arlens.scene import Scene, SceneOptions

        fov = float(self.options.fov_y_deg)
        scene = Scene(image, faces, hands, camera=self._camera(image.shape), options=SceneOptions(fov_y_deg=fov))
        for i in range(len(faces)):
            face = scene.face(i)
            for value in ("pose", "normals", "occluded_vertices", "light", "colors"):
                getattr(face, value)
        for i in range(len(hands)):
            hand = scene.hand(i)
            hand.mask()
            getattr(hand, "light")  # noqa: B009 - computes and keeps the cached value
        return scene

    # -- stage two --------------------------------------------------------------------------------------
    def _lens(self, product_id: str) -> tuple[Any, Any]:
        entry = self._lenses.get(product_id)
        if entry is None:
            from arlens.session import TryOnOptions

            catalog = self.setup.catalog
            product = catalog[product_id]
            try:
                spec = self.setup.registry[product.kind]
                options = TryOnOptions(lipstick_backend=self.options.lipstick_backend,
                                       fov_y_deg=float(self.options.fov_y_deg), max_faces=self.options.max_faces)
                entry = (spec.build(product, catalog=catalog, options=options), spec)
                self.counts["lens_builds"] += 1
            except Exception as exc:  # kept, so a product whose lens cannot be built fails fast on every photo
                entry = exc
            self._lenses[product_id] = entry
            while len(self._lenses) > self.options.lens_cache:
                _, old = self._lenses.popitem(last=False)
                self._close_lens(old)
        else:
            self._lenses.move_to_end(product_id)
        if isinstance(entry, BaseException):
            raise entry
        return entry

    def _camera(self, shape: tuple[int, ...]) -> Any:
        key = (int(shape[1]), int(shape[0]))
        if key not in self._cameras:
            from arlens.tracking.camera import PerspectiveCamera

            self._cameras[key] = PerspectiveCamera(key[0], key[1], float(self.options.fov_y_deg))
        return self._cameras[key]

    def draw(self, lens: Any, spec: Any, context: PhotoContext) -> np.ndarray:
        """``lens`` drawn on a new copy of the context's photo, on the faces or hands its kind targets, with
        the photo's scene (a plugin lens whose ``render`` takes no ``scene`` is called without it)."""
        targets = list(context.targets(spec.target))
        if context.scene is not None and takes_scene(lens, "render"):
            return lens.render(context.image, targets, scene=context.scene)
        return lens.render(context.image, targets)

    def render_one(self, item: RenderItem, context: PhotoContext) -> dict[str, Any]:
        """Render, encode and write one product on one photo; returns its index record fields.

        Raises:
            whatever the lens raises (the caller records it as this item's failure).
        """
        import cv2

        from arlens.demo import face_crop

        t_lens = time.perf_counter()
        lens, spec = self._lens(item.product)
        t0 = time.perf_counter()
        frame = self.draw(lens, spec, context)
        ok, png = cv2.imencode(".png", frame)
        if not ok:
            raise OSError(f"cannot encode {item.path}")
        data = png.tobytes()
        atomic_write(self.out / item.path, data, self.tmp)
        targets = context.targets(spec.target)
        crop = face_crop(frame, _crop_box(targets, frame.shape), size=self.options.thumb_size)
        atomic_write(self.out / item.thumb, _jpeg(crop), self.tmp)
        self.counts["renders"] += 1
        return {
            "photo": item.photo,
            "product": item.product,
            "kind": spec.kind,
            "path": item.path,
            "thumb": item.thumb,
            "faces": len(context.faces),
            "hands": len(context.hands),
            "seconds": round(time.perf_counter() - t0, 6),
            "lens_seconds": round(t0 - t_lens, 6),
            "time": utc_now(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }

    def render(self, items: Sequence[RenderItem], *contexts: PhotoContext) -> list[dict[str, Any]]:
        """Stage two for a batch: every item (a product on one of ``contexts``' photos), products grouped so
        each lens is built once. An item that raises becomes ``{"photo", "product", "error"}``; the others go on.
        """
        by_name = {c.name: c for c in contexts}
        order = {pid: i for i, pid in enumerate(dict.fromkeys(it.product for it in items))}
        out = []
        for item in sorted(items, key=lambda it: order[it.product]):
            try:
                context = by_name[item.photo]
                out.append(self.render_one(item, context))
            except Exception as exc:  # one product's failure must not lose the batch
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                logger.debug("render of %s on %s failed", item.product, item.photo, exc_info=True)
                out.append({"photo": item.photo, "product": item.product, "error": f"{type(exc).__name__}: {reason}"})
        return out

    # -- outputs ----------------------------------------------------------------------------------------
    def sheet(self, task: SheetTask) -> dict[str, Any]:
        """Compose and write one contact sheet from close-ups on disk; returns its path and sha256."""
        from arlens.preview.sheets import compose_sheet

        data = compose_sheet(self.out, task, self.options.thumb_size)
        atomic_write(self.out / task.path, data, self.tmp)
        self.counts["sheets"] += 1
        return {"path": task.path, "sha256": hashlib.sha256(data).hexdigest()}

