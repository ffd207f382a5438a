"""Foreign objects in front of the mouth: found from the face's colours, subtracted from the paint, and
nothing found on a clean face."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from arlens.errors import InputError
from arlens.lenses.lipstick import LipstickLens
from arlens.render import mask as M
from arlens.scene import Scene, SceneOptions
from arlens.scene.objects import object_mask

#: Objects the face's colours can tell from lips and skin (a skin-coloured object is what colour cannot see;
#: :mod:`arlens.scene.objects` says so). The red cup is the lips' colour: found from the lip colour it puts
#: where the skin ring should be.
SEEN = ("white_cup", "blue_cup", "black_mic", "green_cup", "red_cup")


@pytest.fixture(scope="module")
def lenses():
    landmark = LipstickLens(color="#B3172B", opacity=1.0, refine_edges=False, scene_light=False, occluders=False,
                    match_camera=False)
    return landmark, LipstickLens(color="#B3172B", opacity=1.0)


@pytest.mark.parametrize("name", SEEN)
def test_an_object_over_the_mouth_is_not_painted(face_still, hard_scenes, lenses, name):
    """Half the lips behind a cup or a microphone (its matte known): the landmark lens paints 45-90% of the
    object's pixels in the lip zone; with the scene, under 2% (the target is none: what is left is the
    object's anti-aliased edge; 0% but for the microphone on the astronaut's pale skin, 1.5%, where the
    camera-blurred change reaches its weaker matte)."""
    stem, image, face = face_still
    comp = hard_scenes.object_over_mouth(image, face, name, cover=0.5)
    zone = hard_scenes.lip_zone(image.shape, face)
    landmark, lens = lenses
    before = hard_scenes.paint_on(comp.image, landmark.render(comp.image, [face]), comp.truth, zone)
    after = hard_scenes.paint_on(comp.image, lens.render(comp.image, [face]), comp.truth, zone)
    assert before > 0.4, (stem, before)
    assert after < 0.02, (stem, after)


@pytest.mark.parametrize("name", SEEN)
def test_an_object_over_the_mouth_in_other_light_is_not_painted(face_still, hard_scenes, lenses, name):
    """The same scenes under dim, warm and cool light (face and object lit alike). A white cup is grey only by
    the face's light, read from a white patch that may itself be tinted (the astronaut's, by a pink backdrop):
    her white cup under warm light was 40% painted while the grey band reached a fifth of the skin's chroma."""
    stem, image, face = face_still
    comp = hard_scenes.object_over_mouth(image, face, name, cover=0.5)
    zone = hard_scenes.lip_zone(image.shape, face)
    _, lens = lenses
    for light, gains in hard_scenes.LIGHTS.items():
        lit = hard_scenes.apply_light(comp.image, gains)
        assert hard_scenes.paint_on(lit, lens.render(lit, [face]), comp.truth, zone) < 0.02, (stem, light)


@pytest.mark.parametrize("name", ["blue_cup", "black_mic", "red_cup"])
def test_the_object_mask_covers_the_object_on_the_lips(face_still, hard_scenes, name):
    """Where the object hides the lips the scene's face occlusion says so, and it stays off the lips it
    leaves visible (most of them). (In the mouth's opening, where dark and bright are expected, only a
    colour foreign to the mouth counts: the lips are what a lens paints.)"""
    stem, image, face = face_still
    comp = hard_scenes.object_over_mouth(image, face, name, cover=0.5)
    fs = Scene(comp.image, [face]).face(0)
    x0, y0, x1, y1 = fs.mouth_box
    geom = M.lip_geometry(face.landmarks, image.shape)
    lips = np.zeros(image.shape[:2], bool)
    lips[geom.box[1] : geom.box[3], geom.box[0] : geom.box[2]] = M.hard_lip_mask(geom)
    zone = lips[y0:y1, x0:x1]
    truth = comp.truth[y0:y1, x0:x1]
    covered = fs.occlusion(fs.mouth_box)
    on_object = zone & (truth > 0.99)
    visible_lips = zone & (truth < 0.01)
    assert (covered[on_object] > 0.5).mean() > 0.9, stem
    assert (covered[visible_lips] > 0.5).mean() < 0.25, stem
    np.testing.assert_array_equal(fs.objects.alpha, object_mask(comp.image, face.landmarks, fs.colors, fs.mouth_box))


def test_a_white_cup_before_a_deep_skin_tone_in_strong_light_is_not_painted(hard_scenes, lenses):
    """The talking head's first frame (deep skin, strong side light) with a white cup over half the mouth: her
    skin class, spread wide by the light, took the cup in and 65% of its lip-zone pixels were painted; grey under
    the face's light is neither skin nor lip, so the cup is found (0%; under 2% allowed, as above)."""
    from arlens.tracking.results import Face, bbox_of
    from tests.support import read_frames, reference

    lm = reference("talking_head")["face_mesh_478"][0].astype(np.float32)
    face = Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))
    image = read_frames("faces/talking_head.gif")[0]
    comp = hard_scenes.object_over_mouth(image, face, "white_cup", cover=0.5)
    zone = hard_scenes.lip_zone(image.shape, face)
    landmark, lens = lenses
    assert hard_scenes.paint_on(comp.image, landmark.render(comp.image, [face]), comp.truth, zone) > 0.4
    assert hard_scenes.paint_on(comp.image, lens.render(comp.image, [face]), comp.truth, zone) < 0.02


@pytest.mark.parametrize("name", ["white_cup", "blue_cup"])
def test_an_object_raised_in_video_is_not_painted(face_still, hard_scenes, lenses, name):
    """A shopper seen for five frames, then a cup before the mouth: the scene memory's lip class, learned without
    it, must not explain it. Grace Hopper's does for a white cup (her lips' highlights stretch the class toward
    white): 82% of the cup's lip-zone pixels were painted in video though none were in a still; grey is no lip."""
    from arlens.scene import SceneMemory

    stem, image, face = face_still
    tracked = replace(face, track_id=1)
    memory = SceneMemory()
    _, lens = lenses
    for _ in range(5):
        lens.render(image, [tracked], Scene(image, [tracked], memory=memory))
    comp = hard_scenes.object_over_mouth(image, face, name, cover=0.5)
    scene = Scene(comp.image, [tracked], memory=memory)
    out = lens.render(comp.image, [tracked], scene)
    assert hard_scenes.paint_on(comp.image, out, comp.truth, hard_scenes.lip_zone(image.shape, face)) < 0.02, stem
    # the remembered model keeps this frame's grey point (of the remembered light, which the cup hardly moves)
    assert scene.face(0).colors.grey is not None


def test_lip_colour_in_the_skin_ring_tells_of_a_lip_coloured_object(face_still, hard_scenes):
    """``ColorModel.lip_coloured``, the share of the skin ring's samples that look like the lips and not the skin,
    is what sends the object search after an object of the lips' colour: under ``MIN_LIP_COLOURED`` on the clean
    portraits in any light (0-0.09: Grace Hopper's reddish creases around the mouth the most), well over it with a
    red cup over a third of the mouth (0.37-0.43), and carried through a scene memory."""
    from arlens.scene import SceneMemory
    from arlens.scene.objects import MIN_LIP_COLOURED

    stem, image, face = face_still
    for gains in [None, *hard_scenes.LIGHTS.values()]:
        frame = image if gains is None else hard_scenes.apply_light(image, gains)
        assert Scene(frame, [face]).face(0).colors.lip_coloured < 0.6 * MIN_LIP_COLOURED, (stem, gains)
    comp = hard_scenes.object_over_mouth(image, face, "red_cup", cover=0.3)
    assert Scene(comp.image, [face]).face(0).colors.lip_coloured > 1.5 * MIN_LIP_COLOURED, stem
    memory = SceneMemory()
    tracked = replace(face, track_id=1)
    for frame in (image, comp.image):
        remembered = Scene(frame, [tracked], memory=memory).face(0).colors
    assert remembered.lip_coloured == Scene(comp.image, [tracked]).face(0).colors.lip_coloured


def test_no_lip_coloured_object_on_a_talking_head():
    """Every frame of the talking-head clip (a deep skin tone, a face that talks, laughs and turns, a hand at the
    head): the skin ring never looks like the lips enough to send the search after a lip-coloured object (at most
    0.073 of the ring; the gate is 0.2). (On the profile frames 53-57 the search for foreign colours does find the
    dark sleeve behind the face where the landmarks put the far half of the lips: not lips, rightly unpainted.)"""
    from arlens.scene.objects import MIN_LIP_COLOURED
    from arlens.tracking.results import Face, bbox_of
    from tests.support import read_frames, reference

    frames = read_frames("faces/talking_head.gif")
    ref = reference("talking_head")
    seen = 0
    for i, frame in enumerate(frames):
        lm = ref["face_mesh_478"][i].astype(np.float32)
        if not ref["face_found"][i] or not np.isfinite(lm).all():
            continue
        fs = Scene(frame, [Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))]).face(0)
        assert fs.colors.lip_coloured < 0.6 * MIN_LIP_COLOURED, (i, fs.colors.lip_coloured)
        seen += 1
    assert seen >= 60


def test_no_object_on_clean_faces_in_any_light(face_still, hard_scenes):
    """Nothing is in front of the test portraits' mouths, in their own light or dim, warm and cool."""
    stem, image, face = face_still
    for gains in [None, *hard_scenes.LIGHTS.values()]:
        frame = image if gains is None else hard_scenes.apply_light(image, gains)
        objects = Scene(frame, [face]).face(0).objects
        x0, y0, x1, y1 = objects.box
        zone = hard_scenes.lip_zone(image.shape, face)[y0:y1, x0:x1]
        assert not (objects.alpha[zone] > 0.5).any(), (stem, gains)


def test_object_occluders_can_be_turned_off(face_still, hard_scenes):
    stem, image, face = face_still
    comp = hard_scenes.object_over_mouth(image, face, "blue_cup", cover=0.5)
    off = Scene(comp.image, [face], options=SceneOptions(object_occluders=False)).face(0)
    assert not off.objects.alpha.any() and off.objects.box == off.mouth_box
    assert not off.occlusion(off.mouth_box).any()
    with pytest.raises(InputError, match="object_occluders"):
        SceneOptions(object_occluders="yes")


def test_objects_of_every_kind_render(face_still, hard_scenes):
    """Every object of the benchmark, lip- and skin-coloured ones included, renders without error and paints
    nothing outside the lips' box."""
    stem, image, face = face_still
    lens = LipstickLens(color="#B3172B")
    for name in hard_scenes.OBJECTS:
        comp = hard_scenes.object_over_mouth(image, face, name, cover=0.5)
        out = lens.render(comp.image, [face])
        x0, y0, x1, y1 = (int(v) for v in lens.drawn_boxes[0])
        outside = np.ones(image.shape[:2], bool)
        outside[y0:y1, x0:x1] = False
        assert np.array_equal(out[outside], comp.image[outside]), (stem, name)
