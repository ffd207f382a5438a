"""The worker's two stages in-process: the same pixels as a TryOn session, the scene computed once in stage one."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from arlens.catalog import Catalog
from arlens.lenses.registry import default_registry
from arlens.preview import PreviewOptions
from arlens.preview.stages import PhotoTask, PreviewWorker, RenderItem, WorkerSetup
from tests.support import read_frames, read_image


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("stages")
    w = PreviewWorker(WorkerSetup(str(out), Catalog.default(), default_registry(), PreviewOptions()))
    yield w
    w.close()


def png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def hand_under_chin() -> np.ndarray:
    """Frame 30 of the talking-head clip: a hand under the chin, close to the mouth."""
    return read_frames("faces/talking_head.gif")[30]


@pytest.mark.parametrize("source", ["astronaut", "hand_under_chin"])
@pytest.mark.parametrize("product", ["LIP-004", "EYE-101"])
def test_a_render_is_what_a_tryon_session_draws_on_the_same_still(worker, source, product):
    import arlens

    image = read_image("faces/astronaut.png") if source == "astronaut" else hand_under_chin()
    summary, context = worker.prepare(PhotoTask(source, png(image)))
    assert summary["faces"] == 1 and summary["hands_tracked"]
    record = worker.render_one(RenderItem(source, product, f"renders/{source}/{product}.png", f"t/{product}.jpg"),
                               context)
    mine = cv2.imread(str(worker.out / record["path"]))
    with arlens.TryOn(Catalog.default(), [product]) as session:
        theirs = session.process_image(image).frame
    # the same trackers, scene and lens on the same pixels in one process: identical, not merely close
    assert np.array_equal(mine, theirs)


def test_stage_one_tracks_the_hand_in_front_of_the_face_and_computes_the_scene(worker):
    summary, context = worker.prepare(PhotoTask("chin", png(hand_under_chin())))
    assert summary["faces"] == 1 and summary["hands"] >= 1
    face = context.scene.face(0)
    assert {"pose", "light", "colors"} <= set(vars(face))  # computed in stage one, not by the first lens
    assert context.image is context.scene.frame
    copy = pickle.loads(pickle.dumps(context))
    assert copy.image is copy.scene.frame  # the photo travels once
    assert {"pose", "light", "colors"} <= set(vars(copy.scene.face(0)))
    assert np.array_equal(copy.scene.face(0).light.gains, face.light.gains)


def test_an_undecodable_photo_is_a_reason_not_an_exception(worker):
    summary, context = worker.prepare(PhotoTask("junk", b"GIF89a but no more"))
    assert context is None and summary["reason"].startswith("unreadable photo: expected an image")


def test_a_failing_item_does_not_lose_its_batch(worker):
    _, context = worker.prepare(PhotoTask("a", png(read_image("faces/astronaut.png"))))
    items = [RenderItem("a", "LIP-001", "renders/a/LIP-001.png", "thumbs/a/LIP-001.jpg"),
             RenderItem("missing-photo", "LIP-002", "renders/x/LIP-002.png", "thumbs/x/LIP-002.jpg"),
             RenderItem("a", "LIP-003", "renders/a/LIP-003.png", "thumbs/a/LIP-003.jpg")]
    out = worker.render(items, context)
    assert [("error" in r) for r in out] == [False, True, False]
    assert out[1]["product"] == "LIP-002" and "missing-photo" in out[1]["error"]
