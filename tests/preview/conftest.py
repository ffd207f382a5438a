"""Fixtures of the preview tests: small photos (the bundled portraits, the shared stills), a few products, Ray.

Photos are scaled to 256 px wide so a run of a few products takes seconds on two cores; faces are still
found on every portrait at that size.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import pytest

from arlens.catalog import Catalog
from tests.support import DATA, ROOT, TESTDATA

WIDTH = 256
#: demo products covering every built-in lens: two lipsticks (matte, gloss), a pair of glasses, a nail polish
PRODUCT_IDS = ("LIP-004", "LIP-012", "EYE-101", "NAIL-202")


def small(image, width: int = WIDTH):
    scale = width / image.shape[1]
    return cv2.resize(image, (width, round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)


def write_photo(folder: Path, name: str, source: Path) -> bool:
    image = cv2.imread(str(source))
    if image is None:
        return False
    cv2.imwrite(str(folder / name), small(image))
    return True


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory) -> Path:
    """The two bundled portraits, and the shared smiling face and open palm when ../shared is there."""
    d = tmp_path_factory.mktemp("photos")
    write_photo(d, "astronaut.png", DATA / "astronaut.png")
    write_photo(d, "grace_hopper.jpg", DATA / "grace_hopper.jpg")
    write_photo(d, "frontal_smile.png", TESTDATA / "faces" / "frontal_smile.png")
    write_photo(d, "open_palm.jpg", TESTDATA / "hands" / "open_palm.jpg")
    return d


@pytest.fixture(scope="session")
def portraits(tmp_path_factory) -> Path:
    """Only the two bundled portraits (always there)."""
    d = tmp_path_factory.mktemp("portraits")
    write_photo(d, "astronaut.png", DATA / "astronaut.png")
    write_photo(d, "grace_hopper.jpg", DATA / "grace_hopper.jpg")
    return d


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    demo = Catalog.default()
    return Catalog([demo[pid] for pid in PRODUCT_IDS])


@pytest.fixture()
def photos_copy(tmp_path, photo_dir) -> Path:
    """A private copy of the photos, for tests that change them."""
    d = tmp_path / "photos"
    shutil.copytree(photo_dir, d)
    return d


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with two CPUs for the whole session (``ray.init(num_cpus=2)``)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'arlens[ray]')")
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})  # actors import tests.preview.crash_lens
    yield ray
    ray.shutdown()
