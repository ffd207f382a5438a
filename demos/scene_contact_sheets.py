"""Contact sheets for reviewing makeup in real scenes: finishes, light, hands over the mouth, nails.

Usage:
    python demos/scene_contact_sheets.py --out /tmp/sheets [--testdata DIR] [--reference DIR]

Writes, each image a grid of labelled tiles:

- ``finishes.png``: matte, satin, gloss, metallic and shimmer (and liner, ombre, two-tone) side by side on
  the three portraits and the talking head's first frame, zoomed on the lips;
- ``light.png``: each face under dim, warm and cool light (per-channel gains in linear light), the shade
  painted by the landmark lens in white light (before) and in the scene's light (after);
- ``hands.png``: a hand pasted over half the mouth, painted before (landmark outline, no scene) and after
  (the scene's occluders, edges following the image), and with the hand tracked by arlens;
- ``shimmer.png``: one face's shimmer as the light moves against the head (the glints that flash change);
- ``nails.png``: nail polish on both test hands, on their black backgrounds and pasted on other ones;
- ``objects.png``: a cup or a microphone over half the mouth: the photo, the landmark lens (before), the
  lips' colours alone, and with the scene's object occluders (after);
- ``blur.png``: the kiosk's background blur (the scene's person mask) on the portraits and a 1280x720 frame;
- ``soft.png``: a shimmer lipstick and a shimmer eyeshadow on each face at webcam size (1280x720) blurred by 0, 1.5
  and 3 px, pixel-sharp (before) and as soft as the camera (after: ``match_camera``).

Every face sheet also shows the astronaut as a deep skin tone (``hard_scenes.deep_skin``: no photo of one
may be used here), labelled "(deep)".

Faces use MediaPipe's reference landmarks (``../shared/reference``) so the sheets show the lenses, not
tracking errors; the hand-over-mouth row also runs arlens' HandTracker on the pasted image. The sheets
are for people to look at; they are not kept in the repository.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "demos"))

import hard_scenes as HS  # noqa: E402
from lipstick_contact_sheet import load_faces  # noqa: E402

from arlens.lenses.lipstick import LipstickLens  # noqa: E402
from arlens.render import color as C  # noqa: E402
from arlens.render import mask as M  # noqa: E402
from arlens.scene import Scene  # noqa: E402
from arlens.tracking.results import Face, Hand, bbox_of  # noqa: E402

#: (label, options) of the finish sheet's columns.
FINISHES = [
    ("matte", dict(color="#9E1B32", finish="matte")),
    ("satin", dict(color="#9E1B32", finish="satin")),
    ("gloss", dict(color="#9E1B32", finish="gloss")),
    ("metallic", dict(color="#7A3B5E", finish="metallic")),
    ("shimmer", dict(color="#C77D72", finish="shimmer")),
    ("soft liner", dict(color="#C48A78", finish="satin", liner_color="#6B2A2A", liner_width=0.04)),
    ("ombre", dict(color="#7B1E3C", finish="satin", style="ombre", secondary_color="#E8604C")),
    ("two-tone", dict(color="#B3172B", finish="gloss", style="two_tone", secondary_color="#E8A0B4")),
]
#: Shades of the light sheet: a red and a nude (the issue's examples).
LIGHT_SHADES = [("red", "#B3172B"), ("nude", "#C48A78")]


def label(tile: np.ndarray, text: str, scale: float = 0.45) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 16), (0, 0, 0), -1)
    cv2.putText(out, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def lips_crop(image: np.ndarray, face: Face, height: int = 140, margin: float = 0.35) -> np.ndarray:
    """The lips and a margin around them, scaled to ``height`` (nearest-neighbour when enlarging)."""
    lips = face.landmarks[list(M.named.lips_outer()), :2]
    lo, hi = lips.min(axis=0), lips.max(axis=0)
    pad = margin * (hi - lo).max()
    x0, y0 = (np.floor(lo - pad)).astype(int).clip(0)
    x1, y1 = np.ceil(hi + pad).astype(int)
    crop = image[y0 : min(y1, image.shape[0]), x0 : min(x1, image.shape[1])]
    s = height / crop.shape[0]
    return cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_NEAREST if s > 2 else cv2.INTER_AREA)


def grid(rows: list[list[np.ndarray]], gap: int = 4) -> np.ndarray:
    h = max(t.shape[0] for r in rows for t in r)
    widths = [max(r[i].shape[1] for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    out = np.full((len(rows) * (h + gap), sum(widths) + gap * len(widths), 3), 40, np.uint8)
    for ri, row in enumerate(rows):
        x = 0
        for ci, tile in enumerate(row):
            out[ri * (h + gap) : ri * (h + gap) + tile.shape[0], x : x + tile.shape[1]] = tile
            x += widths[ci] + gap
    return out


def finishes_sheet(faces) -> np.ndarray:
    rows = []
    for name, image, face in faces:
        row = [label(lips_crop(image, face), name)]
        for text, opts in FINISHES:
            out = LipstickLens(opacity=0.9, **opts).render(image, [face])
            row.append(label(lips_crop(out, face), text))
        rows.append(row)
    return grid(rows)


def light_sheet(faces) -> np.ndarray:
    rows = []
    for name, image, face in faces:
        for shade_name, colour in LIGHT_SHADES:
            row = []
            for light_name, gains in HS.LIGHTS.items():
                lit = HS.apply_light(image, gains)
                before = LipstickLens(color=colour, opacity=0.9, refine_edges=False, scene_light=False, occluders=False,
                    match_camera=False)
                after = LipstickLens(color=colour, opacity=0.9)
                row.append(label(lips_crop(lit, face, margin=0.8), f"{name} {light_name}"))
                row.append(label(lips_crop(before.render(lit, [face]), face, margin=0.8), f"{shade_name} before"))
                row.append(label(lips_crop(after.render(lit, [face]), face, margin=0.8), f"{shade_name} after"))
            rows.append(row)
    return grid(rows)


def _reference_hand(reference: Path, stem: str) -> Hand:
    with np.load(reference / f"{stem}.npz") as data:
        lm = data["hands"][0, 0].astype(np.float32)
        return Hand(lm, str(data["handedness"][0, 0]), 1.0, bbox_of(lm))


def hands_sheet(faces, testdata: Path, reference: Path) -> np.ndarray:
    from arlens.tracking.hand import HandTracker

    hands = [(stem, cv2.imread(str(testdata / "hands" / f"{stem}.jpg")), _reference_hand(reference, stem), angle)
             for stem, angle in (("open_palm", 170), ("pointing", 90))]
    rows = []
    before = LipstickLens(color="#B3172B", opacity=1.0, refine_edges=False, scene_light=False, occluders=False,
                    match_camera=False)
    after = LipstickLens(color="#B3172B", opacity=1.0)
    with HandTracker(max_hands=2) as tracker:
        for name, image, face in faces:
            row = []
            for stem, hand_image, hand, angle in hands:
                comp = HS.hand_over_mouth(image, face, hand_image, hand, cover=0.5, angle_deg=angle, side=-1)
                tracked = tracker.detect(comp.image)
                row += [
                    label(lips_crop(comp.image, face, margin=0.8), f"{name} + {stem}"),
                    label(lips_crop(before.render(comp.image, [face]), face, margin=0.8), "before"),
                    label(lips_crop(after.render(comp.image, [face], Scene(comp.image, [face], [comp.hand])), face,
                                    margin=0.8), "after (hand known)"),
                    label(lips_crop(after.render(comp.image, [face], Scene(comp.image, [face], tracked)), face,
                                    margin=0.8), f"after (tracked: {len(tracked)})"),
                ]
            rows.append(row)
    return grid(rows)


def shimmer_sheet(faces) -> np.ndarray:
    """The shimmer lens with the light moving round the head: the flakes that flash change."""
    name, image, face = faces[-2] if len(faces) > 2 else faces[0]
    geom = M.lip_geometry(face.landmarks, image.shape)
    lens = LipstickLens(color="#C77D72", finish="shimmer", opacity=0.9)
    row = []
    for i, angle in enumerate(np.linspace(-20, 20, 5)):
        a = np.radians(angle)
        half = (float(np.sin(a)), 0.15, float(np.cos(a)))
        pixels = M.lip_pixels(geom, half=half)
        x0, y0, x1, y1 = geom.box
        out = image.copy()
        box = np.ascontiguousarray(out[y0:y1, x0:x1]).reshape(-1, 3)
        box[pixels.index] = C.composite_pixels(box[pixels.index], pixels.maps, lens.options.params)
        out[y0:y1, x0:x1] = box.reshape(y1 - y0, x1 - x0, 3)
        row.append(label(lips_crop(out, face, height=300, margin=0.15), f"{name} light {angle:+.0f} deg" if i == 0 else
                         f"{angle:+.0f} deg"))
    return grid([row])


def nails_sheet(testdata: Path, reference: Path) -> np.ndarray:
    """Both test hands (open_palm painted as the back of the hand) on their black backgrounds and pasted
    on other ones: the photo, the landmark outline (before) and the nail plates from the image (after)."""
    from arlens.lenses.nails import NailPolishLens

    backgrounds = {
        "black": None,
        "astronaut": cv2.resize(cv2.imread(str(ROOT / "tests" / "data" / "astronaut.png")), (700, 700)),
        "skin": np.full((700, 700, 3), (150, 175, 215), np.uint8),
    }
    rows = []
    for stem in ("pointing", "open_palm"):
        image = cv2.imread(str(testdata / "hands" / f"{stem}.jpg"))
        hand = _reference_hand(reference, stem)
        if stem == "open_palm":
            hand = Hand(hand.landmarks, "Right", 1.0, hand.bbox)
        for bg_name, bg in backgrounds.items():
            if bg is None:
                frame, h = image, hand
            else:
                comp = HS.hand_on_background(image, hand, bg, scale=0.6)
                frame, h = comp.image, Hand(comp.hand.landmarks, hand.handedness, 1.0, comp.hand.bbox)
            x0, y0, x1, y1 = (int(v) for v in h.bbox)
            pad = int(0.1 * max(x1 - x0, y1 - y0))
            crop = (slice(max(y0 - pad, 0), y1 + pad), slice(max(x0 - pad, 0), x1 + pad))
            row = []
            for text, lens in (("photo", None),
                               ("before", NailPolishLens(color="#1F5FBF", follow_image=False, scene_light=False)),
                               ("after", NailPolishLens(color="#1F5FBF")),
                               ("after, red gloss", NailPolishLens(color="#B3172B", finish="gloss"))):
                out = frame if lens is None else lens.render(frame, [h])
                tile = out[crop]
                s = 300 / tile.shape[0]
                row.append(label(cv2.resize(tile, None, fx=s, fy=s, interpolation=cv2.INTER_AREA),
                                 f"{stem} on {bg_name}: {text}"))
            rows.append(row)
    return grid(rows)


def with_deep_skin(faces):
    """The faces and, after them, the first one as a deep skin tone."""
    name, image, face = faces[0]
    return [*faces, (f"{name} (deep)", HS.deep_skin(image, face), face)]


def objects_sheet(faces) -> np.ndarray:
    from arlens.scene import SceneOptions

    before = LipstickLens(color="#B3172B", opacity=1.0, refine_edges=False, scene_light=False, occluders=False,
                    match_camera=False)
    after = LipstickLens(color="#B3172B", opacity=1.0)
    rows = []
    for name, image, face in faces:
        for obj in ("white_cup", "blue_cup", "black_mic", "beige_cup"):
            comp = HS.object_over_mouth(image, face, obj, cover=0.5)
            off = Scene(comp.image, [face], options=SceneOptions(object_occluders=False))
            rows.append([
                label(lips_crop(comp.image, face, margin=0.8), f"{name} + {obj}"),
                label(lips_crop(before.render(comp.image, [face]), face, margin=0.8), "before"),
                label(lips_crop(after.render(comp.image, [face], off), face, margin=0.8), "colours only"),
                label(lips_crop(after.render(comp.image, [face]), face, margin=0.8), "after (objects)"),
            ])
    return grid(rows)


def blur_sheet(faces) -> np.ndarray:
    from arlens.render.background import blur_background
    from arlens.tracking.segmentation import PersonSegmenter

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_lipstick import to_720p

    row = []
    with PersonSegmenter() as seg:
        for name, image, face in faces[:2]:
            for frame, text in ((image, name), (to_720p(image, face, "webcam")[0], f"{name} 1280x720")):
                out = blur_background(frame, seg.segment(frame))
                s = 320 / frame.shape[0]
                row.append(label(cv2.resize(np.hstack([frame, out]), None, fx=s, fy=s, interpolation=cv2.INTER_AREA),
                                 f"{text}: as shot | background blurred"))
    return grid([[t] for t in row])


def soft_sheet(faces) -> np.ndarray:
    """Lips and an eye at webcam size on frames blurred by 0, 1.5 and 3 px: sharp paint (before) against paint as
    soft as the camera (after)."""
    from arlens.catalog import Catalog
    from arlens.lenses.makeup import MakeupLens

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_lipstick import to_720p

    shadow = Catalog.default()["EYS-005"]
    rows = []
    for name, image, face in faces:
        frame, moved = to_720p(image, face, "webcam")
        lips, eyes = [], []
        for sigma in (0.0, 1.5, 3.0):
            soft = frame if sigma == 0 else cv2.GaussianBlur(frame, (0, 0), sigma)
            for match in (False, True):
                tag = f"{name} blur {sigma:g}" if not match else "as soft as the camera"
                scene = Scene(soft, [moved])
                out = LipstickLens(color="#C77D72", finish="shimmer", opacity=0.9, match_camera=match).render(
                    soft, [moved], scene)
                lips.append(label(lips_crop(out, moved, height=140, margin=0.25), tag))
                out = MakeupLens.from_product(shadow, match_camera=match).render(soft, [moved], scene)
                eye = moved.landmarks[[33, 133, 159, 145], :2].mean(axis=0)
                x0, y0 = int(max(eye[0] - 40, 0)), int(max(eye[1] - 30, 0))
                crop = cv2.resize(out[y0 : y0 + 50, x0 : x0 + 80], (224, 140), interpolation=cv2.INTER_CUBIC)
                eyes.append(label(crop, tag))
        rows += [lips, eyes]
    return grid(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    shared = ROOT.parent / "shared"
    parser.add_argument("--testdata", type=Path, default=Path(os.environ.get("ARLENS_TESTDATA", shared / "testdata")))
    parser.add_argument("--reference", type=Path,
                        default=Path(os.environ.get("ARLENS_REFERENCE", shared / "reference")))
    parser.add_argument("--sheets", nargs="*",
                        default=["finishes", "light", "hands", "shimmer", "nails", "objects", "blur", "soft"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    faces = load_faces(args.testdata, args.reference)
    if not faces:
        parser.error("no test faces found")
    deep = with_deep_skin(faces[:3])
    makers = {
        "finishes": lambda: finishes_sheet(with_deep_skin(faces)),
        "light": lambda: light_sheet(deep),
        "hands": lambda: hands_sheet(deep, args.testdata, args.reference),
        "shimmer": lambda: shimmer_sheet(faces),
        "objects": lambda: objects_sheet(deep),
        "blur": lambda: blur_sheet(faces),
        "soft": lambda: soft_sheet(deep),
    }
    makers["nails"] = lambda: nails_sheet(args.testdata, args.reference)
    for name in args.sheets:
        path = args.out / f"{name}.png"
        cv2.imwrite(str(path), makers[name]())
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
