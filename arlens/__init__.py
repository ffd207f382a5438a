"""arlens: AR virtual try-on with shoppable lenses.

Tracks faces and hands with MediaPipe's models run by ONNX Runtime, renders product
overlays (lipstick, eye, brow, cheek and skin make-up, eyewear, nails) and ties every lens to a product
and a buy link.

Public names are imported lazily, so ``import arlens`` stays light: ONNX Runtime, OpenGL
and the catalog readers load only when first used.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from arlens.errors import (
    ArlensError,
    AssetError,
    BundleError,
    CatalogError,
    InputError,
    ModelError,
    RuntimeUnavailableError,
)

try:
    __version__ = version("arlens")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# public name -> module that defines it
_LAZY = {
    "Face": "arlens.tracking.results",
    "Hand": "arlens.tracking.results",
    "PerspectiveCamera": "arlens.tracking.camera",
    "FaceTracker": "arlens.tracking.face",
    "FaceTrackerOptions": "arlens.tracking.face",
    "FaceDetector": "arlens.tracking.face_detector",
    "FaceDetectorOptions": "arlens.tracking.face_detector",
    "HandTracker": "arlens.tracking.hand",
    "HandTrackerOptions": "arlens.tracking.hand",
    "OneEuroOptions": "arlens.tracking.smoothing",
    "PersonSegmenter": "arlens.tracking.segmentation",
    "PersonSegmenterOptions": "arlens.tracking.segmentation",
    "RuntimeOptions": "arlens.runtime",
    "Product": "arlens.catalog",
    "Price": "arlens.catalog",
    "Catalog": "arlens.catalog",
    "ProductKind": "arlens.catalog",
    "Finish": "arlens.catalog",
    "LensBundle": "arlens.catalog.bundle",
    "LipstickLens": "arlens.lenses.lipstick",
    "LipstickOptions": "arlens.lenses.lipstick",
    "MakeupLens": "arlens.lenses.makeup",
    "MakeupOptions": "arlens.lenses.makeup",
    "Look": "arlens.catalog.looks",
    "PaletteColor": "arlens.catalog.product",
    "EyewearLens": "arlens.lenses.eyewear",
    "EyewearOptions": "arlens.lenses.eyewear",
    "ShadeSheet": "arlens.batch",
    "GestureRecognizer": "arlens.gestures",
    "GestureEvent": "arlens.gestures",
    "GestureOptions": "arlens.gestures",
    "NailPolishLens": "arlens.lenses.nails",
    "NailPolishOptions": "arlens.lenses.nails",
    "Scene": "arlens.scene",
    "SceneOptions": "arlens.scene",
    "SceneMemory": "arlens.scene",
    "TryOn": "arlens.session",
    "TryOnResult": "arlens.session",
    "TryOnOptions": "arlens.session",
    "Hotspot": "arlens.session",
    "Snapshot": "arlens.session",
    "UnknownProductError": "arlens.session",
}

__all__ = [
    "ArlensError",
    "AssetError",
    "BundleError",
    "CatalogError",
    "InputError",
    "ModelError",
    "RuntimeUnavailableError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'arlens' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
