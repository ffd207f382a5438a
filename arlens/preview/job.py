"""The preview job: plan, run both stages on an engine, write sheets, gallery and index.

Everything that can be wrong with the input is found before any work starts: the feed (every located
problem, as :class:`~arlens.errors.CatalogError`), the product selection, the photos argument, the model
files. Problems of single photos and products (unreadable, unknown, nothing to draw on) are reported and
skipped; the rest of the run goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from arlens.errors import InputError
from arlens.preview import plan as P
from arlens.preview.index import PreviewIndex, utc_now
from arlens.preview.options import PreviewOptions, PreviewReport, Problem
from arlens.preview.scheduler import Interrupted, PhotoJob, Scheduler
from arlens.preview.stages import RenderItem, WorkerSetup

logger = logging.getLogger(__name__)


class Progress(Protocol):
    """What the job tells a progress display (the CLI draws a tqdm bar with it)."""

    def start(self, phase: str, total: int) -> None:
        """A phase begins (``"renders"``, ``"sheets"``) with ``total`` steps."""
        ...

    def advance(self, n: int) -> None:
        """``n`` more steps of the phase are done."""
        ...

    def close(self) -> None:
        """The phase is over."""
        ...


class PreviewInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a preview; ``report`` says what was done (all of it recorded in the index)."""

    def __init__(self, report: PreviewReport) -> None:
        super().__init__("preview interrupted")
        self.report = report


class _Sink:
    """Turns the scheduler's reports into index records and the run's report."""

    def __init__(self, index: PreviewIndex, settings: str, product_hashes: dict[str, str],
                 sources: dict[str, P.PhotoSource]) -> None:
        self.index = index
        self.settings = settings
        self.product_hashes = product_hashes
        self.sources = sources
        self.rendered_count = 0
        self.not_drawn_list: list[Problem] = []
        self.failed_list: list[Problem] = []
        self.bad_photos: dict[str, Problem] = {}

    def photo(self, name: str, summary: dict[str, Any] | None, reason: str | None, sha256: str) -> None:
        source = self.sources[name]
        rec: dict[str, Any] = {"type": "photo", "photo": name, "file": str(source.path.resolve()),
                               "sha256": sha256 or source.sha256, "settings": self.settings}
        if summary is not None:
            rec.update(summary)
            if not summary.get("faces"):
                rec["reason"] = "no face found in the photo"
        else:
            rec["reason"] = reason
        self.index.append([rec])

    def rendered(self, records: list[dict[str, Any]], photo_sha: dict[str, str]) -> None:
        out = []
        for r in records:
            out.append({"type": "render", **r, "photo_sha256": photo_sha[r["photo"]],
                        "product_hash": self.product_hashes[r["product"]], "settings": self.settings})
        self.index.append(out)
        self.rendered_count += len(out)

    def failed(self, items: Sequence[RenderItem], reason: str) -> None:
        now = utc_now()
        self.index.append([{"type": "failed", "photo": i.photo, "product": i.product, "reason": reason, "time": now}
                           for i in items])
        self.failed_list += [Problem(i.photo, i.product, reason) for i in items]

    def not_drawn(self, items: Sequence[RenderItem], reason: str) -> None:
        self.not_drawn_list += [Problem(i.photo, i.product, reason) for i in items]

    def bad_photo(self, items: Sequence[RenderItem], name: str, reason: str) -> None:
        self.bad_photos[name] = Problem(name, "", reason)


def _resolve_catalog(catalog: Any) -> Any:
    from arlens.catalog import Catalog

    if catalog is None:
        return Catalog.default()
    if isinstance(catalog, Catalog):
        return catalog
    if isinstance(catalog, str | Path):
        if not Path(catalog).is_file():
            raise InputError(f"catalog: expected a feed file, got {catalog} (no such file)")
        return Catalog.load(catalog)  # CatalogError with every located problem stops here, before any work
    raise InputError(f"catalog: expected a Catalog or a feed path, got {type(catalog).__name__}")


def preview_catalog(
    photos: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    catalog: Any = None,
    products: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    options: PreviewOptions | None = None,
    registry: Any = None,
    progress: Progress | None = None,
    **kwargs: Any,
) -> PreviewReport:
    """Render products on photos into ``out_dir``: images, contact sheets, ``index.json`` and a gallery.

    Resumable: renders already in ``out_dir``'s index with the same photo, product and settings hashes are
    not redone, so a run that was interrupted (Ctrl-C, kill -9) continues where it stopped and a run after a
    feed change re-renders only the products whose render-relevant fields changed.

    Args:
        photos: a folder, a glob pattern, image files, or a list of them (see :func:`arlens.preview.plan.find_photos`).
        out_dir: the output folder (created). ``renders/<photo>/<product>.png``, ``thumbs/``, ``photos/``,
            ``sheets/``, ``index.json`` and ``index.html`` go there.
        catalog: a :class:`~arlens.catalog.Catalog` or a feed path; default the bundled demo catalog.
        products: product IDs (default: every product of the catalog with a lens).
        kinds: only products of these kinds.
        options: :class:`~arlens.preview.options.PreviewOptions`; keyword arguments build one instead (or
            override its fields), e.g. ``engine="ray", workers=4``.
        registry: the :class:`~arlens.lenses.registry.LensRegistry` (default: arlens' lenses and plugins).
        progress: a progress display (see :class:`Progress`); none by default.

    Returns:
        What was done, skipped and failed.

    Raises:
        CatalogError: the feed has problems (all of them, located), before any work.
        InputError: bad photos argument, options or kinds; no product or no photo left to render.
        UnknownProductError: none of the requested product IDs is in the catalog.
        ModelError: the packaged model files are missing or corrupt.
        OutputLocked: another preview is writing to ``out_dir``.
        WorkerSetupError, RuntimeUnavailableError: the engine cannot start (Ray missing, workers failing).
        PreviewInterrupted: Ctrl-C; the index holds everything finished before it.
    """
    import dataclasses

    from arlens.lenses.registry import default_registry
    from arlens.runtime import verify_models

    t_start = time.perf_counter()
    if options is None:
        options = PreviewOptions(**kwargs)
    elif kwargs:
        options = dataclasses.replace(options, **kwargs)
    if not isinstance(options, PreviewOptions):
        raise InputError(f"options: expected PreviewOptions, got {type(options).__name__}")
    registry = registry if registry is not None else default_registry()
    catalog = _resolve_catalog(catalog)
    selection = P.select_products(catalog, registry, products, kinds)
    if not selection.products:
        if selection.unknown and not selection.skipped:
            from arlens.session import UnknownProductError

            raise UnknownProductError(f"products: none of {', '.join(selection.unknown)} is in the catalog "
                                      f"{catalog.source or ''}".rstrip())
        raise InputError("products: nothing to render (no product of the selection has a lens: "
                         + "; ".join(f"{pid}: {why}" for pid, why in selection.skipped[:5]) + ")")
    for pid in selection.unknown:
        logger.warning("unknown product %s: not in the catalog, skipped", pid)
    out = Path(out_dir)
    sources = P.photo_sources(P.without_outputs(P.find_photos(photos), out))
    verify_models()

    from arlens.preview.gallery import check_writable

    check_writable(out)
    settings = P.settings_hash(options)
    product_files = dict(zip([p.id for p in selection.products],
                             P.unique_names([p.id for p in selection.products], [p.id for p in selection.products]),
                             strict=True))
    specs = {p.id: registry[p.kind] for p in selection.products}
    product_hashes = {p.id: P.product_hash(p, specs[p.id], catalog) for p in selection.products}

    with PreviewIndex(out) as index:
        sink = _Sink(index, settings, product_hashes, {s.name: s for s in sources})
        jobs, up_to_date = _plan(index, sink, sources, selection.products, specs, product_hashes, product_files,
                                 settings, options.force)

        header = {
            "arlens": _version(),
            "updated": utc_now(),
            "settings": settings,
            "catalog": {"source": catalog.source, "products": len(catalog)},
            "options": {"engine": options.engine, "workers": options.workers, "max_faces": options.max_faces,
                        "fov_y_deg": options.fov_y_deg, "lipstick_backend": options.lipstick_backend,
                        "thumb_size": options.thumb_size},
        }
        pending = sum(len(j.items) for j in jobs)
        engine = None
        worker_stats: list[dict[str, Any]] = []
        render_seconds = 0.0
        interrupted = False
        photos_in_run = [s.name for s in sources if s.error is None]
        sheet_tasks: list[Any] = []
        try:
            scheduler = None
            if pending:
                engine, scheduler = _start(options, out, catalog, registry, sink, progress)
                t0 = time.perf_counter()
                if progress is not None:
                    progress.start("renders", pending)
                try:
                    scheduler.run(jobs)
                finally:
                    render_seconds = time.perf_counter() - t0
                    if progress is not None:
                        progress.close()

            sheet_tasks = _sheet_work(selection.products, product_files, photos_in_run, index, options)
            todo = [(t, h) for t, h, _ in sheet_tasks
                    if index.sheets.get(t.path, {}).get("inputs") != h or not (out / t.path).is_file()]
            if todo:
                if engine is None:
                    engine, scheduler = _start(options, out, catalog, registry, sink, progress)
                assert scheduler is not None
                _write_sheets(scheduler, index, todo, progress)
            if engine is not None:
                worker_stats = engine.worker_stats()
        except (Interrupted, KeyboardInterrupt):
            interrupted = True
        finally:
            if engine is not None:
                (engine.kill if interrupted else engine.close)()

        problems = [
            ("Failed", tuple(sink.failed_list)),
            ("Not drawn", tuple(sink.not_drawn_list)),
            ("Unreadable photos", tuple(sink.bad_photos.values())),
            ("Products left out", tuple(Problem("", pid, why) for pid, why in selection.skipped)
             + tuple(Problem("", pid, "unknown product: not in the catalog") for pid in selection.unknown)),
        ]
        gallery = None
        if not interrupted:
            gallery = _gallery(out, index, selection.products, product_files, photos_in_run, catalog, options,
                               problems, sheet_tasks)
        report = PreviewReport(
            out_dir=out,
            index=out / "index.json",
            gallery=gallery,
            rendered=sink.rendered_count,
            up_to_date=up_to_date,
            not_drawn=tuple(sink.not_drawn_list),
            failed=tuple(sink.failed_list),
            bad_photos=tuple(sink.bad_photos.values()),
            unknown_products=selection.unknown,
            skipped_products=tuple(Problem("", pid, why) for pid, why in selection.skipped),
            photos=len(sources),
            products=len(selection.products),
            seconds=time.perf_counter() - t_start,
            render_seconds=render_seconds,
            interrupted=interrupted,
            worker_stats=tuple(worker_stats),
        )
        header["run"] = {
            "summary": report.summary(),
            "photos": [s.name for s in sources],
            "products": [p.id for p in selection.products],
            "unknown_products": list(selection.unknown),
            "skipped_products": [{"product": pid, "reason": why} for pid, why in selection.skipped],
            "not_drawn": [{"photo": p.photo, "product": p.product, "reason": p.reason} for p in sink.not_drawn_list],
            "interrupted": interrupted,
        }
        index.write(header)
    if interrupted:
        raise PreviewInterrupted(report)
    return report


def _plan(index: PreviewIndex, sink: _Sink, sources: Sequence[P.PhotoSource], products: Sequence[Any],
          specs: dict[str, Any], product_hashes: dict[str, str], product_files: dict[str, str], settings: str,
          force: bool) -> tuple[list[PhotoJob], int]:
    """The photos with renders to do (each with its pending items) and how many renders are up to date.

    Unreadable photos are reported here; items on a photo already tracked with these settings and found
    without a face (or hand) are reported as not drawn, without tracking it again to find nothing again.
    """
    up_to_date = 0
    jobs: list[PhotoJob] = []
    for src in sources:
        if src.error is not None:
            sink.photo(src.name, None, src.error, "")
            sink.bad_photo([], src.name, src.error)
            logger.warning("photo %s skipped: %s", src.path, src.error)
            continue
        known = index.photos.get(src.name)
        known = known if known and (known.get("sha256"), known.get("settings")) == (src.sha256, settings) else None
        items, targets, hands = [], {}, False
        for p in products:
            target = specs[p.id].target
            if not force and index.is_done(src.name, p.id, src.sha256, product_hashes[p.id], settings):
                up_to_date += 1
                continue
            item = RenderItem(src.name, p.id, P.render_path(src.name, product_files[p.id]),
                              P.thumb_path(src.name, product_files[p.id]))
            if known is not None and known.get("width") and (
                (target == "face" and not known.get("faces"))
                or (target == "hand" and known.get("hands_tracked") and not known.get("hands"))
            ):
                sink.not_drawn([item], f"no {target} found in the photo")
                continue
            items.append(item)
            targets[p.id] = target
            hands = hands or target == "hand"
        if items:
            jobs.append(PhotoJob(src.name, (lambda path=src.path: P.read_photo(path)), items, targets, hands))
    return jobs, up_to_date


def _write_sheets(scheduler: Scheduler, index: PreviewIndex, todo: list[tuple[Any, str]],
                  progress: Progress | None) -> None:
    """Compose the sheets whose inputs changed on the workers, and record each one written."""
    if progress is not None:
        progress.start("sheets", len(todo))
    try:
        inputs = {t.path: h for t, h in todo}
        for task, result, error in scheduler.run_sheets([t for t, _ in todo]):
            if error is not None:
                logger.warning("sheet %s not written: %s", task.path, error)
            else:
                index.append([{"type": "sheet", "path": task.path, "inputs": inputs[task.path],
                               "sha256": result["sha256"]}])
    finally:
        if progress is not None:
            progress.close()


def _version() -> str:
    import arlens

    return arlens.__version__


def _start(options: PreviewOptions, out: Path, catalog: Any, registry: Any, sink: _Sink,
           progress: Progress | None) -> tuple[Any, Scheduler]:
    from arlens.preview.engines import make_engine

    engine = make_engine(options)
    setup = WorkerSetup(out_dir=str(out.resolve()), catalog=catalog, registry=registry, options=options, threads=1)
    try:
        engine.start(setup)
    except BaseException:
        engine.close()
        raise
    scheduler = Scheduler(engine, sink, batch_size=options.batch_size, photos_per_task=options.photos_per_task,
                          max_live_photos=options.max_live_photos,
                          advance=progress.advance if progress is not None else None)
    return engine, scheduler


def _sheet_work(products: Sequence[Any], product_files: dict[str, str], photos: list[str], index: PreviewIndex,
                options: PreviewOptions) -> list[Any]:
    from arlens.preview.sheets import plan_sheets

    return plan_sheets(products, product_files, photos, index.renders, index.photos, columns=options.sheet_columns,
                       max_tiles=options.sheet_max_tiles)


def _gallery(out: Path, index: PreviewIndex, products: Sequence[Any], product_files: dict[str, str],
             photos: list[str], catalog: Any, options: PreviewOptions, problems: Any, sheet_tasks: list[Any]) -> Path:
    from arlens.preview.gallery import write_gallery

    written = {path for path in index.sheets if (out / path).is_file()}
    product_sheets: dict[str, list[str]] = {}
    photo_sheets: dict[str, list[tuple[str, str]]] = {}
    for task, _, owner in sheet_tasks:
        if task.path not in written:
            continue
        if owner[0] == "product":
            product_sheets.setdefault(owner[1], []).append(task.path)
        else:
            label = owner[2] if task.path.endswith(f"/{owner[2]}.png") else Path(task.path).stem
            photo_sheets.setdefault(owner[1], []).append((label, task.path))
    brands = sorted({p.brand for p in products if p.brand})
    heading = options.title or ((" / ".join(brands) if brands else "arlens") + " catalog preview")
    return write_gallery(out, heading=heading, products=products, photos=photos, renders=index.renders,
                         photo_records=index.photos, product_sheets=product_sheets, photo_sheets=photo_sheets,
                         utm=options.utm, page_size=options.page_size, problems=problems, tmp_dir=index.tmp_dir)
