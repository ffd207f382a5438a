"""Catalog previews at scale: every product of a line on every model photo, on one machine or a Ray cluster.

``arlens preview`` and :func:`preview_catalog` render ``OUT/renders/<photo>/<product>.png`` for each photo
and product, with contact sheets (per product across the photos, per photo across a kind's shades),
``OUT/index.json`` (one record per render: product, photo, path, faces found, time, sha256) and a static
HTML gallery with prices, buy links and schema.org JSON-LD.

How it is put together:

- :mod:`~arlens.preview.plan`: photos and products of a run, content hashes, what is left to render;
- :mod:`~arlens.preview.index`: the index and its journal (resumable after Ctrl-C or kill -9);
- :mod:`~arlens.preview.stages`: stage one per photo (tracking, the scene), stage two per product batch
  (lenses from the registry drawn on the precomputed faces and hands), run by a :class:`PreviewWorker`;
- :mod:`~arlens.preview.engines` and :mod:`~arlens.preview.ray_engine`: a local process pool, or Ray actors;
- :mod:`~arlens.preview.scheduler`: the driver's loop, retries of dead workers, the same for both engines;
- :mod:`~arlens.preview.sheets` and :mod:`~arlens.preview.gallery`: what is written beside the renders;
- :mod:`~arlens.preview.job`: :func:`preview_catalog`, which ties them together.

Importing this package loads neither ONNX Runtime, OpenGL nor Ray; the workers do, when they start.
"""

from __future__ import annotations

from arlens.preview.job import PreviewInterrupted, Progress, preview_catalog
from arlens.preview.options import PreviewOptions, PreviewReport, Problem

__all__ = ["PreviewInterrupted", "PreviewOptions", "PreviewReport", "Problem", "Progress", "preview_catalog"]
