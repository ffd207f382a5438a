"""FaceDetector: both BlazeFace models against Google's FaceDetection graphs, tiles, options and misuse.

``tests/data/face_detection_reference.npz`` holds what MediaPipe 0.10.21's ``FaceDetection`` returned
with ``model_selection=0`` (short range) and ``1`` (full range) on the shared stills, every frame of the
talking-head clip, the 1280x720 scenes of ``benchmarks/kiosk_scenes.py`` and (full range) each square tile
``"auto"`` searches in them; ``tools/make_detection_reference.py`` made it.
"""

from __future__ import annotations

import numpy as np
import pytest

import arlens
from arlens.tracking import detection as D
from arlens.tracking.face_detector import FaceDetector, square_tiles
from tests.support import DATA, benchmarks_module, read_frames, read_image

S = benchmarks_module("kiosk_scenes")
GROUP_SCENES, SINGLE_SCENES, TILES_1280x720, scene = S.GROUP_SCENES, S.SINGLE_SCENES, S.TILES_1280x720, S.scene

STILLS = ("astronaut.png", "grace_hopper.jpg", "frontal_smile.png")


@pytest.fixture(scope="module")
def detectors():
    with FaceDetector(model="short") as short, FaceDetector(model="full") as full, FaceDetector() as auto:
        yield {"short": short, "full": full, "auto": auto}


@pytest.fixture(scope="module")
def stills():
    return {name: read_image(f"faces/{name}") for name in STILLS}


def reference_cases(stills) -> dict[str, tuple[np.ndarray, dict[str, tuple[np.ndarray, ...]]]]:
    """case name -> (the image, or for a tile (scene, tile index)), {model: (boxes, keypoints, scores)}."""
    ref = np.load(DATA / "face_detection_reference.npz")
    cases = list(ref["cases"])
    images: dict[str, object] = {name.split(".")[0]: image for name, image in stills.items()}
    images.update({f"talking_head/{i:02d}": f for i, f in enumerate(read_frames("faces/talking_head.gif"))})
    for placements in [*SINGLE_SCENES, *GROUP_SCENES]:
        name = "scene/" + "+".join(p.key for p in placements)
        image = scene(placements, stills)
        # The same scene as the reference saw (it is rebuilt here with another OpenCV).
        assert abs(image.mean() - ref["means"][cases.index(name)]) < 0.01, name
        images[name] = image
        for t, (cx, cy, side) in enumerate(TILES_1280x720):
            images[f"{name}/tile_{int(cx - side / 2)}_{int(cy - side / 2)}"] = (image, t)
    out = {}
    for c, name in enumerate(cases):
        rows = {m: tuple(ref[k][(ref["case"] == c) & (ref["model"] == m)] for k in ("boxes", "keypoints", "scores"))
                for m in ("short", "full")}
        out[name] = (images[name], rows)
    return out


def test_full_range_anchors_follow_mediapipe_layout():
    """One 48x48 grid (stride 4 on 192x192), one anchor per cell (interpolated_scale_aspect_ratio 0)."""
    a = D.ssd_anchors(D.FACE_FULL_RANGE)
    assert a.shape == (2304, 2)
    np.testing.assert_allclose(a[0], [0.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(a[1], [1.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(a[48], [0.5 / 48, 1.5 / 48])


@pytest.mark.parametrize("model", ["short", "full"])
def test_detections_agree_with_mediapipe(detectors, stills, model):
    """Boxes, keypoints and scores of every reference image, against MediaPipe's FaceDetection graph.

    Short range: within 1e-4 of the box size everywhere. Full range: the median within 1e-5; a few boxes
    move by up to 4%, because weighted NMS averages every candidate above 0.6 and a candidate within
    ~1e-3 of 0.6 (the difference between ONNX Runtime's and TFLite-XNNPACK's float paths) can be
    averaged in by one and not the other; scores agree within 2e-3. Tiles: the full-range search of
    one square tile of the scene against MediaPipe on that square cut out as an image of its own.
    """
    diffs = []
    for name, (image, rows) in reference_cases(stills).items():
        boxes, keypoints, scores = rows[model]
        if isinstance(image, tuple):
            if model == "short":
                continue
            frame, tile = image
            got = detectors["auto"].search_tiles([frame], [tile])[0]
            cx, cy, side = TILES_1280x720[tile]
            offset = np.array([cx - side / 2, cy - side / 2], np.float32)
        else:
            got = detectors[model].detect(image)
            offset = np.zeros(2, np.float32)
        assert len(got) == len(boxes), f"{name}: {len(got)} faces, MediaPipe {len(boxes)}"
        for det, box, kp, score in zip(got, boxes, keypoints, scores, strict=True):  # both best first
            size = box[2] - box[0]
            diffs.append((np.abs(det.box - box - np.tile(offset, 2)).max() / size,
                          np.abs(det.keypoints - kp - offset).max() / size, abs(det.score - score)))
    diffs = np.asarray(diffs)
    assert len(diffs) >= (70 if model == "short" else 140)
    box, kp, score = diffs.max(axis=0)
    median = np.median(diffs, axis=0)
    if model == "short":
        assert box <= 1e-3 and kp <= 1e-3 and score <= 2e-3, diffs.max(axis=0)
    else:
        assert box <= 0.05 and kp <= 0.05 and score <= 2e-3, diffs.max(axis=0)
        assert median[0] <= 1e-4 and median[1] <= 1e-4, median
        assert np.mean(diffs[:, 0] <= 1e-3) >= 0.95


def test_square_tiles_cover_the_frame_with_overlap():
    assert square_tiles(1280, 720) == list(TILES_1280x720)  # what the reference recorded MediaPipe on
    assert square_tiles(720, 1280) == [(cy, cx, side) for cx, cy, side in TILES_1280x720]
    for w, h in ((1920, 1080), (2560, 1080), (1000, 300)):
        tiles = square_tiles(w, h)
        starts = [cx - side / 2 for cx, _, side in tiles]
        side = tiles[0][2]
        assert side == h and starts[0] == 0 and starts[-1] + side == w
        assert all(b - a <= 0.75 * side for a, b in zip(starts, starts[1:], strict=False))
    # up to 4:3 the whole frame is one tile, letterboxed as MediaPipe's own graph does it
    assert square_tiles(640, 480) == [(320.0, 240.0, 640.0)]
    assert square_tiles(500, 500) == [(250.0, 250.0, 500.0)]


def test_auto_adds_full_range_faces_only_where_short_range_missed(detectors, stills):
    """A large face and a small one: the large one keeps the short-range detection (Google's FaceMesh crop)."""
    group = scene(GROUP_SCENES[0], stills)
    short = detectors["short"].detect(group)
    auto = detectors["auto"].detect(group)
    assert len(short) == 1 and len(auto) == 3
    np.testing.assert_array_equal(auto[0].box, short[0].box)
    with FaceDetector(max_faces=1) as one:
        assert len(one.detect(group)) == 1
    assert detectors["auto"].detect(np.full((720, 1280, 3), 96, np.uint8)) == []


def test_detect_batch_equals_detect(detectors, stills):
    images = [scene(GROUP_SCENES[1], stills), stills["astronaut.png"], np.zeros((50, 80, 3), np.uint8)]
    batched = detectors["auto"].detect_batch(images)
    for image, found in zip(images, batched, strict=True):
        single = detectors["auto"].detect(image)
        assert len(found) == len(single)
        for a, b in zip(found, single, strict=True):
            np.testing.assert_allclose(a.box, b.box, atol=1e-3)


@pytest.mark.parametrize("kwargs,fragment", [({"model": "long"}, "model"), ({"max_faces": 0}, "max_faces"),
                                             ({"min_detection_confidence": 2.0}, "min_detection_confidence"),
                                             ({"device": "tpu"}, "device")])
def test_bad_options_are_rejected_when_built(kwargs, fragment):
    with pytest.raises(arlens.InputError, match=fragment):
        FaceDetector(**kwargs)


@pytest.mark.parametrize("kwargs,fragment", [({"detector": "long"}, "detector"),
                                             ({"redetect_turned_deg": 0.0}, "redetect_turned_deg"),
                                             ({"min_detection_confidence": -0.1}, "min_detection_confidence")])
def test_bad_tracker_detection_options_are_rejected(kwargs, fragment):
    with pytest.raises(arlens.InputError, match=fragment):
        arlens.FaceTracker(**kwargs)


def test_bad_input_and_closed_detector():
    detector = FaceDetector(model="short")
    with pytest.raises(arlens.InputError, match="expected a uint8 BGR image"):
        detector.detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(arlens.InputError, match=r"images\[1\]"):
        detector.detect_batch([np.zeros((10, 10, 3), np.uint8), None])
    with pytest.raises(arlens.InputError, match="single image"):
        detector.detect_batch(np.zeros((10, 10, 3), np.uint8))
    detector.close()
    with pytest.raises(arlens.InputError, match="after close"):
        detector.detect(np.zeros((10, 10, 3), np.uint8))


def test_a_strip_is_searched_by_a_bounded_number_of_tiles():
    """Found by tests/fuzz (issue #24): the tile count grew with the aspect ratio; a 32,766 x 2 frame made
    about 40,000 full-range tensors (23 GB) and was killed."""
    from arlens.tracking.face_detector import MAX_TILES

    for w, h in [(32_766, 2), (2, 32_766), (40_000, 3)]:
        tiles = square_tiles(w, h)
        assert len(tiles) == MAX_TILES
        centres = sorted(t[0] if w > h else t[1] for t in tiles)
        assert centres[0] == min(w, h) / 2 and centres[-1] == max(w, h) - min(w, h) / 2  # both ends covered
    assert len(square_tiles(12_000, 1_000)) == 16  # a 12:1 panorama keeps its overlapping tiles
