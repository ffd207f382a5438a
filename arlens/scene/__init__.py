"""The scene: what every lens needs to know about a frame beyond the tracked geometry, computed once.

A :class:`Scene` is built per frame from the *unrendered* frame, the faces and hands tracked in it and
the camera, and handed to every lens (``lens.render(frame, targets, scene=scene)`` /
``lens.render_into(out, targets, scene=scene)``). Building it costs nothing; every value below is computed
the first time some lens asks for it, kept for the other lenses, and covers only the region asked for
(a lip box, a nail's box), never the whole frame.

Conventions: frames are uint8 BGR (H, W, 3). Boxes are ``(x0, y0, x1, y1)`` integer frame pixels, the
end exclusive. Pixel coordinates are continuous with pixel ``i`` spanning ``[i, i + 1)`` (MediaPipe's
landmarks times the image size). Masks are float32 0..1 arrays shaped like the box they were asked for,
read-only, 1 where covered. Camera space is OpenGL's, in centimetres: x right, y up, z toward the viewer
(:class:`~arlens.tracking.camera.PerspectiveCamera`). Colours "linear" are linear-light sRGB in B, G, R
order (the inverse sRGB curve of the pixel values over 255).

``Scene(frame, faces=(), hands=(), *, camera=None, options=None, memory=None, segmenter=None)``
    ``frame`` (read-only view, not copied: nothing may draw into it while the scene is in use),
    ``faces``, ``hands`` (tuples), ``camera`` (:class:`~arlens.tracking.camera.PerspectiveCamera` of the
    frame's size, built with ``options.fov_y_deg`` when not given; the eyewear lens projects with it),
    ``options`` (:class:`SceneOptions`: hand occluders, their refinement, foreign-object occluders),
    ``memory`` (a :class:`SceneMemory` shared by a video stream's scenes: each face track's light and
    colour classes smoothed over its frames, :mod:`~arlens.scene.memory`), ``segmenter`` (a
    :class:`~arlens.tracking.segmentation.PersonSegmenter`: the scene then has a person mask).

    - ``scene.face(i_or_face) -> FaceScene`` and ``scene.hand(i_or_hand) -> HandScene`` (cached; a Face
      or Hand that is not in the lists gets its own).
    - ``scene.occlusion(box, exclude=None) -> float32 (h, w)``: the union of the occluding hands' masks
      over ``box`` (lazy, cached per box).
    - ``scene.person(box) -> float32 (h, w) | None``: person (1) vs background (0) over ``box``, the
      segmenter run once on the whole frame the first time any box is asked for; None without one
      (``scene.has_person_mask``). Background is behind the people, not an occluder: a lens keeps its
      paint off it (a face turned past its outline, a finger against a wall).
    - ``Scene.ensure(scene, frame, faces, hands)``: what a lens calls: the given scene checked against
      the frame's size, or a new one (a lens given none builds what it needs itself; it then has no
      hands to occlude with, only what the image says).

:class:`FaceScene` (all lazy, cached):
    - ``pose``: float64 (4, 4) canonical face (cm) -> camera (cm); the tracked pose, or one fitted from
      the landmarks when the Face has none in front of the camera.
    - ``normals``: float32 (468, 3) camera-space unit normals of the posed canonical face mesh.
    - ``occluded_vertices``: bool (468,) mesh landmarks under a hand's landmark silhouette (grown by
      ``OCCLUDER_MARGIN`` finger widths).
    - ``occlusion(box) -> float32 (h, w)``: what covers this face over ``box``: the hands, and the foreign
      objects in front of the mouth.
    - ``objects``: :class:`RegionMask` over ``mouth_box`` of the foreign objects in front of the mouth (a
      cup, a microphone: cells the face's colour classes do not explain where they expect lip, skin or the
      mouth's inside, coherent regions on the lips that come from outside; :mod:`~arlens.scene.objects`),
      looked for only when ``colors.foreign`` says the colours were learned around something foreign, or
      ``colors.lip_coloured`` that the skin ring holds the lips' colour (an object of that colour: a red cup).
    - ``camera_look``: the camera's blur (pixels) and grain (grey levels) by the face's eye
      (:class:`~arlens.render.camera_match.CameraLook`), for lenses that draw objects into the frame.
    - ``light``: :class:`Light` (``color`` float32 (3,) linear BGR of luminance 1, ``intensity`` (1 for
      a well-exposed frame), ``gains`` = color x intensity, ``direction`` float32 (3,) toward the light in
      camera space, ``sh`` float32 (4,) with ``Y(n) = sh[0] + sh[1:] . n`` the skin's linear luminance
      over normal ``n``, ``white`` the white patch).
    - ``mouth_box`` and ``colors``: :class:`ColorModel` of the skin and lips (Gaussian
      :class:`ColorClass` es over CIELAB with lightness-relative chroma, ``colors.to_features``, learned
      around the mouth with occluded pixels left out, the skin class robust to an object over the ring by
      the face's skin elsewhere, the lip class without hues no lip has); ``colors.lip_probability(features)
      -> float32 (n,)``, ``colors.separation`` (how far apart lips and skin are in colour),
      ``colors.foreign`` (the share of its samples neither class explains), ``colors.lip_coloured`` (the share
      of the skin ring's samples that look like the lips and not the skin), ``colors.grey`` (where grey lies
      under the face's light: neither skin nor lip, ``colors.not_grey(features)``; a white cup is not skin).

:class:`HandScene` (lazy, cached): ``box`` (what the silhouette can reach), ``finger_width`` (pixels),
``colors`` (:class:`~arlens.scene.hands.HandColors`: the hand's skin class and its surround's),
``mask(box=None) -> float32 (h, w)`` (the silhouette from the landmarks, its edge decided by the hand's
colour against its surround), ``grid`` (the silhouette grown by ``OCCLUDER_MARGIN``, on a coarse grid:
what the faces' colour models and light look points up in), ``light`` (the white patch near the hand;
direction from the nearest face), ``occlusion(box)`` (the other hands).

What the lenses do with it: the lipstick multiplies its mask by the visibility the face's ``occlusion``
leaves (with a pixel's margin), refines its edges with ``colors`` (:mod:`arlens.render.lip_edges`),
composites in ``light.gains`` (:mod:`arlens.render.relight`) and places its gloss highlight and the
flashing shimmer flakes by the half vector between ``light.direction`` and the camera in the head's
frame (``pose``); the nail polish keeps to ``HandScene.mask``, finds old polish with ``HandScene.colors``
(:mod:`arlens.render.nail_plates`) and composites in ``HandScene.light``; the eyewear projects with
``camera``. Costs: nothing until asked; asked for, a face's light is a white patch on a 48 px thumbnail
and an SH fit on about 260 mesh vertices, its colour model a few hundred sampled pixels, a hand's mask
the requested box only.

Modules, one job each: :mod:`~arlens.scene.regions` (boxes and box masks), :mod:`~arlens.scene.hands`
(hand silhouettes), :mod:`~arlens.scene.colors` (colour classes), :mod:`~arlens.scene.objects`
(foreign objects in front of the mouth), :mod:`~arlens.scene.light` (illumination),
:mod:`~arlens.scene.memory` (smoothing over a video), :mod:`~arlens.scene.scene` (the lazy per-frame
value).
"""

from __future__ import annotations

from arlens.scene.colors import ColorClass, ColorModel
from arlens.scene.light import Light
from arlens.scene.memory import SceneMemory, SceneMemoryOptions
from arlens.scene.regions import Box, RegionMask
from arlens.scene.scene import FaceScene, HandScene, Scene, SceneOptions

__all__ = [
    "Box",
    "ColorClass",
    "ColorModel",
    "FaceScene",
    "HandScene",
    "Light",
    "RegionMask",
    "Scene",
    "SceneMemory",
    "SceneMemoryOptions",
    "SceneOptions",
]
