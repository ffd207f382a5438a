"""Both engines: the same images pixel for pixel; a worker that dies is retried once, then its item fails."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from arlens.catalog import Catalog, Product
from arlens.preview import PreviewOptions, preview_catalog
from tests.preview import crash_lens


def renders(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["photo"], r["product"]): r for r in json.loads((out / "index.json").read_text())["renders"]}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, photo_dir, catalog):
    out = tmp_path_factory.mktemp("local")
    report = preview_catalog(photo_dir, out, catalog=catalog, options=PreviewOptions(engine="local", workers=2,
                                                                                        batch_size=3))
    return out, report


def test_engines_write_the_same_images_pixel_for_pixel(tmp_path, ray_local, local_run, photo_dir, catalog):
    local_out, local_report = local_run
    ray_out = tmp_path / "ray"
    # another batch size on Ray: how items are grouped must not change a pixel either
    ray_report = preview_catalog(photo_dir, ray_out, catalog=catalog,
                                 options=PreviewOptions(engine="ray", workers=2, batch_size=5))
    a, b = renders(local_out), renders(ray_out)
    assert set(a) == set(b) and len(a) >= 6
    assert local_report.rendered == ray_report.rendered == len(a)
    kinds = set()
    for key in a:
        x = cv2.imread(str(local_out / a[key]["path"]), cv2.IMREAD_UNCHANGED)
        y = cv2.imread(str(ray_out / b[key]["path"]), cv2.IMREAD_UNCHANGED)
        assert x is not None and y is not None and np.array_equal(x, y), key
        kinds.add(a[key]["kind"])
    assert {"lipstick", "eyewear"} <= kinds  # numpy compositing and GL rendering both agree
    assert len(ray_report.worker_stats) == 2
    assert all(s["threads"] == 1 and s["peak_rss_mb"] > 0 for s in ray_report.worker_stats)


def test_ray_actor_threads_follow_the_cpus_ray_gives(tmp_path, ray_local, portraits, catalog):
    report = preview_catalog(portraits, tmp_path / "out", catalog=catalog, products=["LIP-004"],
                             options=PreviewOptions(engine="ray", workers=1, cpus_per_worker=2))
    assert [s["threads"] for s in report.worker_stats] == [2]


def crash_catalog(tmp_path: Path, base: Catalog) -> Catalog:
    def product(pid: str, mode: str) -> Product:
        return Product(id=pid, title=f"Crash {mode}", link="https://shop.example/crash", price="1.00 USD",
                       kind="blush", color="#3366CC", color_name=mode, description=str(tmp_path / f"{pid}.marker"))

    return Catalog([base["LIP-004"], product("CRASH-ALWAYS", "always"), product("CRASH-ONCE", "once"),
                    base["LIP-012"]])


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_dying_worker_is_retried_once_then_its_item_fails(tmp_path, portraits, catalog, engine, request):
    if engine == "ray":
        request.getfixturevalue("ray_local")
    out = tmp_path / "out"
    # one worker, one photo, batches of two: the crashing products share their batches with good ones
    report = preview_catalog(portraits / "astronaut.png", out, catalog=crash_catalog(tmp_path, catalog),
                             registry=crash_lens.registry(), options=PreviewOptions(engine=engine, workers=1))
    done = renders(out)
    assert [(p.photo, p.product) for p in report.failed] == [("astronaut", "CRASH-ALWAYS")]
    assert report.failed[0].reason == "worker died twice rendering it"
    # the others, those that shared a batch with a crash included, are rendered; "once" on its retry
    assert set(done) == {("astronaut", pid) for pid in ("LIP-004", "LIP-012", "CRASH-ONCE")}
    assert (tmp_path / "CRASH-ONCE.marker").exists()
    index = json.loads((out / "index.json").read_text())
    assert [(f["photo"], f["product"]) for f in index["failed"]] == [("astronaut", "CRASH-ALWAYS")]
    assert "1 failed (worker died twice rendering it)" in report.summary()


def test_check_reachable_reads_ray_addresses():
    """A head that accepts connections passes (host:port, ray://host:port); a closed port is refused at once,
    naming the host and port it tried; 'auto' is left to Ray."""
    import socket

    from arlens.errors import RuntimeUnavailableError
    from arlens.preview.ray_engine import check_reachable

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        port = server.getsockname()[1]
        check_reachable(f"127.0.0.1:{port}", timeout_s=5)
        check_reachable(f"ray://127.0.0.1:{port}", timeout_s=5)
    check_reachable("auto")
    with pytest.raises(RuntimeUnavailableError, match=rf"nothing answers at 127.0.0.1:{port} within 5 s"):
        check_reachable(f"127.0.0.1:{port}", timeout_s=5)
    with pytest.raises(RuntimeUnavailableError, match=r"nothing answers at 127.0.0.1:10001 "):
        check_reachable("ray://127.0.0.1", timeout_s=5)  # the Ray Client's default port (nothing there here)
