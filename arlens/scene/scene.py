"""The per-frame scene: one lazily computed value every lens reads (see :mod:`arlens.scene` for the API)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from arlens import landmarks as L
from arlens.errors import InputError
from arlens.image import check_bgr
from arlens.render.camera_match import CameraLook, estimate_camera_look, eye_patch
from arlens.scene import colors as _colors
from arlens.scene import hands as _hands
from arlens.scene import light as _light
from arlens.scene import objects as _objects
from arlens.scene.memory import SceneMemory
from arlens.scene.regions import Box, RegionMask, box_shape, check_box, clip_box, intersect, is_empty
from arlens.tracking.camera import PerspectiveCamera
from arlens.tracking.results import Face, Hand, as_hands

#: The colour models and the light skip pixels and vertices this close (finger widths) to a hand's
#: landmark silhouette, where its refined edge may lie. Small: a hand over the mouth leaves little lip to
#: learn from, and a hand pixel taken for lip or skin is an outlier the fits trim or down-weight.
OCCLUDER_MARGIN = 0.15


@dataclass(frozen=True)
class SceneOptions:
    """Settings of a :class:`Scene`, validated when built.

    Attributes:
        fov_y_deg: vertical field of view of the camera built for the frame when none is given (the
            trackers' default, 63 degrees).
        hand_occluders: hands count as occluders of faces (and of each other).
        object_occluders: foreign objects in front of the mouth (a cup, a microphone: what fits none of the
            face's colours around the mouth, :mod:`~arlens.scene.objects`) count as occluders of the face.
        refine_occluders: move occluder outlines onto the image's edges (guided filter); False keeps the
            landmark silhouettes (cheaper, a few pixels off).
    """

    fov_y_deg: float = 63.0
    hand_occluders: bool = True
    refine_occluders: bool = True
    object_occluders: bool = True

    def __post_init__(self) -> None:
        fov = self.fov_y_deg
        if isinstance(fov, bool) or not isinstance(fov, int | float) or not 1.0 <= float(fov) <= 170.0:
            raise InputError(f"SceneOptions.fov_y_deg: expected a number in [1, 170], got {fov!r}")
        for name in ("hand_occluders", "refine_occluders", "object_occluders"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"SceneOptions.{name}: expected True or False, got {getattr(self, name)!r}")


#: What a caller of an occlusion reads (:meth:`Scene.occlusion`'s ``need``): bool (h, w) over the box, a function
#: that returns it, or None (every pixel).
Need = np.ndarray | Callable[[], np.ndarray] | None


def _crop_need(need: np.ndarray | Callable[[], np.ndarray],
               rows_cols: tuple[int, int, int, int]) -> Callable[[], np.ndarray]:
    """``need`` (or what it returns) cropped to box-local rows ``y0:y1`` and columns ``x0:x1``, when asked for."""
    y0, y1, x0, x1 = rows_cols
    return lambda: (need() if callable(need) else need)[y0:y1, x0:x1]


class FaceScene:
    """What the scene knows about one face; every attribute is computed on first use and kept.

    Not built directly: :meth:`Scene.face` returns it.
    """

    def __init__(self, scene: Scene, face: Face, index: int | None) -> None:
        self.scene = scene
        self.face = face
        #: position in ``scene.faces``, or None for a face the scene was not built with
        self.index = index
        self._occlusion: dict[Box, np.ndarray] = {}

    @cached_property
    def pose(self) -> np.ndarray:
        """float64 (4, 4) head pose (canonical cm -> camera cm): the tracked one, or fitted now when the
        face has none in front of the camera (a Face built by hand has the identity)."""
        return _light.face_pose(self.face.landmarks, self.face.pose, self.scene.camera)

    @cached_property
    def normals(self) -> np.ndarray:
        """float32 (468, 3) unit normals of the posed face mesh in camera space (x right, y up, z toward
        the viewer), one per mesh landmark, read-only."""
        out = _light.posed_normals(self.pose)
        out.setflags(write=False)
        return out

    @cached_property
    def occluded_vertices(self) -> np.ndarray:
        """bool (468,): mesh landmarks under a hand's landmark silhouette, grown by ``OCCLUDER_MARGIN``
        finger widths (read-only)."""
        out = self._occluded(self.face.landmarks[: L.NUM_MESH_LANDMARKS])
        out.setflags(write=False)
        return out

    def _occluded(self, points: np.ndarray) -> np.ndarray:
        """bool (n,): which (n, 2) frame pixel points the occluding hands' grown silhouettes cover."""
        out = np.zeros(len(points), dtype=bool)
        for i in range(len(self.scene.occluding_hands())):
            out |= self.scene.hand(i).grid.covers(points)
        return out

    @cached_property
    def light(self) -> _light.Light:
        """The :class:`~arlens.scene.light.Light` on this face (colour, intensity, direction, SH); with a
        scene memory, smoothed over the face track's frames (:mod:`~arlens.scene.memory`)."""
        occluded = self.occluded_vertices if self.scene.occluding_hands() else None
        light = _light.estimate_light(self.scene.frame, self.face.landmarks, self.pose, self.scene.camera, occluded,
                                      self.skin_patches)
        track = self._track()
        return light if track is None else self.scene.memory.light(track, self.scene._memory_frame, light)

    @cached_property
    def skin_patches(self) -> _light.SkinPatches:
        """The frame's pixels around the face's plain-skin mesh vertices (:func:`~arlens.scene.light.skin_vertices`)
        that no hand covers (:attr:`occluded_vertices`): :class:`~arlens.scene.light.SkinPatches`, gathered once
        for the light's shading fit and the colour model's skin reference."""
        verts = _light.skin_vertices()
        if self.scene.occluding_hands():
            verts = verts[~self.occluded_vertices[verts]]
        return _light.skin_patches(self.scene.frame, self.face.landmarks, verts)

    def _track(self) -> int | None:
        """The face's track id when the scene has a memory and the id is this face's alone in the scene."""
        if self.scene.memory is None or self.index is None:
            return None
        track = self.face.track_id
        return track if sum(f.track_id == track for f in self.scene.faces) == 1 else None

    @cached_property
    def camera_look(self) -> CameraLook:
        """The camera's blur and grain around this face (:class:`~arlens.render.camera_match.CameraLook`),
        measured on a patch by one eye (:func:`~arlens.render.camera_match.eye_patch`): what a lens gives
        what it draws so it does not look pasted on. With a scene memory, smoothed over the face track's frames
        (a frame's estimate wobbles; the camera does not)."""
        x0, y0, x1, y1 = eye_patch(self.face.landmarks, self.scene.frame.shape)
        if x1 - x0 < 12 or y1 - y0 < 12 or not np.isfinite(self.face.landmarks[:, :2]).all():
            return CameraLook()
        grey = cv2.cvtColor(np.ascontiguousarray(self.scene.frame[y0:y1, x0:x1]), cv2.COLOR_BGR2GRAY)
        look = estimate_camera_look(grey)
        track = self._track()
        return look if track is None else self.scene.memory.camera_look(track, self.scene._memory_frame, look)

    @cached_property
    def mouth_box(self) -> Box:
        """(x0, y0, x1, y1): the lips and the skin ring around them, where :attr:`colors` learns."""
        return _colors.mouth_box(self.face.landmarks, self.scene.frame.shape)

    @cached_property
    def colors(self) -> _colors.ColorModel:
        """The face's skin and lip :class:`~arlens.scene.colors.ColorModel`, learned around the mouth
        with occluded pixels left out (the sampled pixels are tested against the hands' landmark
        silhouettes grown by ``OCCLUDER_MARGIN``: no occluder mask is rasterised for it) and grey under the
        face's :attr:`light` taken for neither class; with a scene memory, smoothed over the face track's
        frames."""
        occluded = self._occluded if self.scene.occluding_hands() else None
        # the skin vertices' pixels are the light's (made once)
        reference = _colors.skin_reference(self.scene.frame, self.face.landmarks, patches=self.skin_patches)
        # grey under the face's light is neither skin nor lip (a white cup); the light read first also resets
        # the remembered colours when it changed at once
        grey = _colors.grey_point(self.light.color)
        colors = _colors.face_color_model(self.scene.frame, self.face.landmarks, box=self.mouth_box,
                                          occluded=occluded, reference=reference, grey=grey)
        track = self._track()
        if track is None:
            return colors
        return self.scene.memory.colors(track, self.scene._memory_frame, colors)

    @cached_property
    def objects(self) -> RegionMask:
        """The foreign objects in front of the mouth (:func:`~arlens.scene.objects.object_mask`): a
        :class:`~arlens.scene.regions.RegionMask` over :attr:`mouth_box`, zeros when none is found or the
        scene's options turn them off."""
        box = self.mouth_box
        if not self.scene.options.object_occluders or is_empty(box):
            return RegionMask(box, np.zeros(box_shape(box), np.float32))
        return RegionMask(box, _objects.object_mask(self.scene.frame, self.face.landmarks, self.colors, box))

    def occlusion(self, box: Box, need: Need = None) -> np.ndarray:
        """float32 (h, w) 0..1 over frame ``box``: how much of each pixel something in front of this face
        covers (the hands, and foreign objects in front of the mouth). Read-only and cached per box; zeros
        when nothing is there.

        ``need``: optional bool (h, w) or a function returning it, the pixels whose values the caller reads (see
        :meth:`Scene.occlusion`);
        the other pixels may then hold the hands' unrefined values, and the result is not cached (unless the
        whole box's is at hand already)."""
        box = check_box(box)
        found = self._occlusion.get(box)
        if found is None:
            found, whole = self.scene._occlusion_map(box, None, need)
            # the objects lie in the mouth box: a box away from it (glasses) needs no object search (its colours)
            objects = self.objects if intersect(self.mouth_box, box) is not None else None
            # (any object pixel: the mask's max, 0..1, above 0; a max costs half of an any() of floats)
            if objects is not None and intersect(objects.box, box) is not None and objects.alpha.max(initial=0.0) > 0.0:
                found = objects.max_into(found.copy(), box)
                found.setflags(write=False)
            if whole:
                self._occlusion[box] = found
        return found


class HandScene:
    """What the scene knows about one hand; computed on first use. Built by :meth:`Scene.hand`."""

    def __init__(self, scene: Scene, hand: Hand, index: int | None) -> None:
        self.scene = scene
        self.hand = hand
        #: position in ``scene.hands``, or None for a hand the scene was not built with
        self.index = index
        self._masks: dict[Box, np.ndarray] = {}

    @cached_property
    def box(self) -> Box:
        """(x0, y0, x1, y1): the frame pixels the hand's silhouette can reach (empty when off-frame)."""
        return _hands.hand_box(self.hand, self.scene.frame.shape)

    @cached_property
    def grid(self) -> _hands.SilhouetteGrid:
        """The hand's landmark silhouette grown by ``OCCLUDER_MARGIN`` finger widths, on a coarse grid: what
        the faces' colour models and light skip (:func:`~arlens.scene.hands.silhouette_grid`)."""
        return _hands.silhouette_grid(self.hand, self.scene.frame.shape, OCCLUDER_MARGIN * self.finger_width,
                                      self.box, self.finger_width)

    @cached_property
    def finger_width(self) -> float:
        """The hand's mean finger width in pixels."""
        return _hands.finger_width(self.hand)

    def mask(self, box: Box | None = None, need: Need = None) -> np.ndarray:
        """float32 (h, w) 0..1 over frame ``box`` (default :attr:`box`): the hand's silhouette, refined on
        the image unless the scene's options say otherwise. Read-only, cached per box.

        ``need``: optional bool (h, w) over ``box`` or a function returning it, the pixels whose values the
        caller reads: the refinement may look at the colours only for those (:func:`~arlens.scene.hands.hand_mask`),
        the others keep the landmark prior's values, and such a partial mask is not cached (a whole one cached
        already serves)."""
        box = self.box if box is None else clip_box(check_box(box), self.scene.frame.shape)
        found = self._masks.get(box)
        if found is None:
            refine = self.scene.options.refine_occluders
            # the colours are learned only if the refinement looks at them (a box the silhouette misses or covers
            # whole needs none: a hand beside the mouth costs no colour fit)
            found = _hands.hand_mask(self.scene.frame, self.hand, box, refine,
                                     (lambda: self.colors) if refine else None, self.box,
                                     need if refine else None, self.finger_width)
            found.setflags(write=False)
            if need is None or not refine:
                self._masks[box] = found
        return found

    @cached_property
    def camera_look(self) -> CameraLook:
        """The camera's blur and grain at this hand (:class:`~arlens.render.camera_match.CameraLook`): the nearest
        face's (:attr:`FaceScene.camera_look`, measured by its eye), one camera's, for the nails' polish to take so
        it is not sharper than the fingers it is on; none (a sharp frame's) in a scene without faces. A hand's own
        edges are no measure: a finger's rounded outline shades off gradually, and the sharp test photos of hands
        read as 1.3-2.0 px blurred by it."""
        nearest = self._nearest_face()
        return CameraLook() if nearest is None else self.scene.face(nearest).camera_look

    def _nearest_face(self) -> int | None:
        """Index of the scene's face whose box is nearest this hand's landmarks' mean, or None without faces."""
        faces = self.scene.faces
        if not faces:
            return None
        centre = self.hand.landmarks[:, :2].mean(axis=0)
        return min(range(len(faces)), key=lambda i: float(np.linalg.norm(faces[i].bbox[:2] - centre)))

    @cached_property
    def colors(self) -> _hands.HandColors:
        """The :class:`~arlens.scene.hands.HandColors` of the hand's skin and of its surround."""
        return _hands.hand_colors(self.scene.frame, self.hand, self.box, self.finger_width)

    @cached_property
    def light(self) -> _light.Light:
        """The light near this hand: colour and intensity from its neighbourhood's white patch; the
        direction and SH are the nearest face's when the scene has faces, else from the camera."""
        white = _light.white_patch(self.scene.frame, _light.neighbourhood(self.hand.landmarks, self.scene.frame.shape))
        nearest = self._nearest_face()
        base = _light.Light.neutral() if nearest is None else self.scene.face(nearest).light
        y = float(white @ _light.BGR_TO_Y)
        color = white / np.float32(y) if y > 1e-6 else np.ones(3, np.float32)
        return _light.Light(color, y / _light.REFERENCE_WHITE, base.direction, base.sh, white)

    def occlusion(self, box: Box) -> np.ndarray:
        """float32 (h, w) over ``box``: the other hands' silhouettes (which one is in front is not known
        from 2D landmarks, so both count), read-only."""
        return self.scene.occlusion(check_box(box), exclude=self.index)


class Scene:
    """What every lens needs to know about one frame beyond its geometry: occluders, colours, light.

    Built once per frame from the *unrendered* frame (before any lens draws) and handed to every lens.
    Building it costs nothing: each value is computed the first time a lens asks for it and kept.

    Args:
        frame: uint8 BGR (H, W, 3), the frame the faces and hands were tracked in. It is not copied:
            do not draw into it while the scene is in use (:class:`~arlens.session.TryOn` draws into a
            copy).
        faces: the faces tracked in it.
        hands: the hands tracked in it.
        camera: the frame's camera (default: ``PerspectiveCamera(W, H, options.fov_y_deg)``).
        options: :class:`SceneOptions`.
        memory: a :class:`~arlens.scene.memory.SceneMemory` shared by the scenes of one video stream: each
            tracked face's light and colour models are then smoothed over its frames (a still face does not
            flicker); None (stills) takes each frame as it is.
        segmenter: a :class:`~arlens.tracking.segmentation.PersonSegmenter` (anything with
            ``segment(frame) -> PersonMask``): the scene then has a person/background mask
            (:meth:`person`), computed the first time a lens asks; None: no person mask (and no cost).

    Raises:
        InputError: a bad frame, a face or hand that is not a Face or Hand, a camera of another size, or a
            memory that is not a SceneMemory.
    """

    def __init__(
        self,
        frame: np.ndarray,
        faces: Iterable[Face] = (),
        hands: Iterable[Hand] = (),
        *,
        camera: PerspectiveCamera | None = None,
        options: SceneOptions | None = None,
        memory: SceneMemory | None = None,
        segmenter: Any | None = None,
    ) -> None:
        frame = check_bgr(frame).view()
        frame.setflags(write=False)  # the scene's own view; the caller's array is untouched
        self.frame = frame
        self.options = options if options is not None else SceneOptions()
        if not isinstance(self.options, SceneOptions):
            raise InputError(f"options: expected SceneOptions, got {type(self.options).__name__}")
        faces = [faces] if isinstance(faces, Face) else list(faces)
        for i, face in enumerate(faces):
            if not isinstance(face, Face):
                raise InputError(f"faces[{i}]: expected a Face, got {type(face).__name__}")
        self.faces: tuple[Face, ...] = tuple(faces)
        self.hands: tuple[Hand, ...] = tuple(as_hands(hands))
        h, w = frame.shape[:2]
        if camera is None:
            camera = PerspectiveCamera(w, h, self.options.fov_y_deg)
        elif not isinstance(camera, PerspectiveCamera):
            raise InputError(f"camera: expected a PerspectiveCamera, got {type(camera).__name__}")
        elif (camera.width, camera.height) != (w, h):
            raise InputError(f"camera: expected a {w}x{h} camera for this frame, got {camera.width}x{camera.height}")
        self.camera = camera
        if memory is not None and not isinstance(memory, SceneMemory):
            raise InputError(f"memory: expected a SceneMemory, got {type(memory).__name__}")
        #: the video stream's :class:`~arlens.scene.memory.SceneMemory`, or None
        self.memory = memory
        self._memory_frame = memory.new_scene() if memory is not None else 0
        if segmenter is not None and not callable(getattr(segmenter, "segment", None)):
            raise InputError(f"segmenter: expected a PersonSegmenter, got {type(segmenter).__name__}")
        self._segmenter = segmenter
        self._person: Any = None
        self._face_scenes: dict[int, FaceScene] = {}
        self._hand_scenes: dict[int, HandScene] = {}
        self._extra: dict[int, tuple[Any, Any]] = {}  # id -> (face or hand, its scene), for values not in the lists
        self._occlusion: dict[tuple[Box, int | None], np.ndarray] = {}

    @property
    def shape(self) -> tuple[int, int, int]:
        """The frame's (H, W, 3)."""
        return self.frame.shape  # type: ignore[return-value]

    def __repr__(self) -> str:
        h, w = self.frame.shape[:2]
        return f"Scene({w}x{h}, faces={len(self.faces)}, hands={len(self.hands)})"

    # -- per face and hand ------------------------------------------------------------------------
    def face(self, face: int | Face) -> FaceScene:
        """The :class:`FaceScene` of ``face``: an index into :attr:`faces`, or a Face (one of them, or
        another tracked in the same frame, which gets its own FaceScene).

        Raises:
            InputError: an index out of range or something that is not a Face.
        """
        index = self._index(face, self.faces, Face, "face")
        if index is None:
            return self._other(face, FaceScene)
        found = self._face_scenes.get(index)
        if found is None:
            found = self._face_scenes[index] = FaceScene(self, self.faces[index], index)
        return found

    def hand(self, hand: int | Hand) -> HandScene:
        """The :class:`HandScene` of ``hand`` (an index into :attr:`hands` or a Hand), as :meth:`face`."""
        index = self._index(hand, self.hands, Hand, "hand")
        if index is None:
            return self._other(hand, HandScene)
        found = self._hand_scenes.get(index)
        if found is None:
            found = self._hand_scenes[index] = HandScene(self, self.hands[index], index)
        return found

    @staticmethod
    def _index(value: object, values: tuple[Any, ...], kind: type, name: str) -> int | None:
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            if not 0 <= int(value) < len(values):
                raise InputError(f"{name}: expected an index below {len(values)}, got {value}")
            return int(value)
        if not isinstance(value, kind):
            raise InputError(f"{name}: expected a {kind.__name__} or an index, got {type(value).__name__}")
        for i, v in enumerate(values):
            if v is value:
                return i
        return None

    def _other(self, value: Any, cls: type) -> Any:
        found = self._extra.get(id(value))
        if found is None or found[0] is not value:
            found = (value, cls(self, value, None))
            self._extra[id(value)] = found  # keeps the value alive, so its id is not reused
        return found[1]

    # -- occluders ----------------------------------------------------------------------------------
    def occluding_hands(self) -> tuple[Hand, ...]:
        """The hands that count as occluders (none when ``options.hand_occluders`` is off)."""
        return self.hands if self.options.hand_occluders else ()

    def occlusion(self, box: Box, *, exclude: int | None = None, need: Need = None) -> np.ndarray:
        """float32 (h, w) 0..1 over frame ``box``: the union of the occluding hands' silhouettes there.

        Args:
            box: (x0, y0, x1, y1) frame pixels (clipped to the frame).
            exclude: index of a hand to leave out (a hand is not its own occluder).
            need: optional bool (h, w) over ``box``, or a function that returns it (called only if the hands'
                refinement asks): the pixels whose values the caller reads (a lens's painted pixels and what
                its own filters read around them). Those get what they get without it; the refinement may
                skip the colours of the others, whose values are then the landmark silhouettes' alone. Such
                a partial map is not cached (a whole one at hand serves).

        Returns:
            A read-only array, cached per box; zeros when no hand reaches the box.
        """
        return self._occlusion_map(check_box(box), exclude, need)[0]

    def _occlusion_map(self, box: Box, exclude: int | None, need: Need) -> tuple[np.ndarray, bool]:
        """:meth:`occlusion` of a checked box, and whether it is the whole map (False: a partial one, for ``need``)."""
        key = (box, exclude)
        found = self._occlusion.get(key)
        if found is not None:
            return found, True
        # a box inside one already computed (a lens's lip box inside the colour model's mouth box) is a crop
        for (other, other_exclude), values in self._occlusion.items():
            if other_exclude == exclude and other[0] <= box[0] and other[1] <= box[1] and \
                    box[2] <= other[2] and box[3] <= other[3]:
                found = values[box[1] - other[1] : box[3] - other[1], box[0] - other[0] : box[2] - other[0]]
                self._occlusion[key] = found
                return found, True
        h, w = box[3] - box[1], box[2] - box[0]
        inside = clip_box(box, self.frame.shape)
        parts = []
        partial = False
        for i in range(len(self.occluding_hands())):
            if i == exclude or is_empty(inside):
                continue
            hs = self.hand(i)
            both = intersect(hs.box, inside)
            if both is not None:
                part_need = None
                if need is not None and self.options.refine_occluders and both not in hs._masks:
                    part_need = _crop_need(need, (both[1] - box[1], both[3] - box[1], both[0] - box[0],
                                                  both[2] - box[0]))
                    partial = True
                parts.append((both, hs.mask(both, part_need)))
        if len(parts) == 1 and parts[0][0] == box:
            out = parts[0][1]  # one hand's read-only mask over the whole box: the union is that mask
        else:
            out = np.zeros((h, w), dtype=np.float32)
            for both, part in parts:
                dst = out[both[1] - box[1] : both[3] - box[1], both[0] - box[0] : both[2] - box[0]]
                np.maximum(dst, part, out=dst)
            out.setflags(write=False)
        if not partial:
            self._occlusion[key] = out
        return out, not partial

    # -- person and background -----------------------------------------------------------------------
    @property
    def has_person_mask(self) -> bool:
        """Whether the scene can tell person from background (it was given a segmenter)."""
        return self._segmenter is not None

    def person(self, box: Box) -> np.ndarray | None:
        """float32 (h, w) 0..1 over frame ``box``: how likely each pixel shows a person rather than the
        background (:class:`~arlens.tracking.segmentation.PersonSegmenter`, run once on the whole frame the
        first time any box is asked for); None when the scene has no segmenter.

        Background is what is behind the people (a wall, a room): not an occluder, and a hand or a cup held
        in front of a face counts as person. Where a lens's landmarks put its paint on the background (a
        face turned away, a finger against a wall), the background says no.
        """
        if self._segmenter is None:
            return None
        box = check_box(box)
        if self._person is None:
            self._person = self._segmenter.segment(self.frame)
        return self._person.crop(box)

    # -- for lenses ---------------------------------------------------------------------------------
    @classmethod
    def ensure(
        cls,
        scene: Scene | None,
        frame: np.ndarray,
        faces: Iterable[Face] = (),
        hands: Iterable[Hand] = (),
        name: str = "scene",
    ) -> Scene:
        """``scene`` checked against ``frame``'s size, or a new Scene of ``frame`` when it is None.

        What a lens calls with the scene it was given: a lens given none builds what it needs itself.

        Raises:
            InputError: ``scene`` is not a Scene, or was built for a frame of another size.
        """
        if scene is None:
            return cls(frame, faces, hands)
        if not isinstance(scene, Scene):
            raise InputError(f"{name}: expected an arlens Scene, got {type(scene).__name__}")
        if scene.frame.shape != np.shape(frame):
            raise InputError(f"{name}: expected a scene of a {np.shape(frame)} frame, got one of {scene.frame.shape}")
        return scene
