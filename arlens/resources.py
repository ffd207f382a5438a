"""Locate the data arlens ships (ONNX models, assets) in an installed wheel or a source tree.

In a wheel, ``models/`` and ``assets/`` are installed inside the package as ``arlens/models`` and
``arlens/assets``; in a source checkout they sit beside the package. Nothing is looked up relative to
the working directory, so arlens works from any folder.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def _data_dir(name: str) -> Path:
    packaged = Path(str(importlib.resources.files("arlens"))) / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


def models_dir() -> Path:
    """The folder holding the ONNX models and ``manifest.json``."""
    return _data_dir("models")


def assets_dir() -> Path:
    """The folder holding the default catalog, demo eyewear, sample portrait and canonical face."""
    return _data_dir("assets")
