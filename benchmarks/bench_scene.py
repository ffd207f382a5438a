"""Makeup in harder scenes, before and after the scene layer: hands over the mouth, other light, a hand
crossing the mouth in video, nails on known backgrounds, shimmer you can see.

Usage:
    python benchmarks/bench_scene.py [--json benchmarks/results/bench_scene.json] [--frames 24]

Every scene is built from the clean test photos with known ground truth (``hard_scenes.py``):

- ``hand_over_mouth``: open_palm (fingers across) and pointing (a finger and knuckles) pasted over half
  of each portrait's mouth. Score: the share of the hand's pixels inside the lip zone (landmark outline
  grown 2 px) that were painted (a channel moved by more than 2 levels). Target 0%.
  ``before``: the landmark lens (no scene, landmark outline, white light); ``colour only``: the lens
  with a scene but no hands (its edges follow the image); ``tracked``: hands from arlens' HandTracker on
  the pasted image; ``known``: the pasted hand's landmarks.
- ``objects``: a cup or a microphone (``hard_scenes.OBJECTS``: white, blue printed, green, beige and red
  cups, a black microphone) pasted over half of each portrait's mouth from below (the talking head's first
  frame too: a deep skin tone in strong light). Score as ``hand_over_mouth``, on the object's pixels.
  ``before``: the landmark lens; ``colour only``: the scene without object occluders (the lip colour model
  alone); ``objects``: with them; ``video``: with them, in a scene whose ``SceneMemory`` saw the face without
  the object for five frames first (a kiosk's shopper raising a cup); ``dim``, ``warm``, ``cool``: with them,
  the composite under each light of ``light`` (a white cup is grey only by the face's light). Target 0%; a beige
  (skin-coloured) object is what colour cannot tell from the face (a red, lip-coloured one is found from the lip
  colour it puts in the skin ring).
- ``light``: each portrait under dim, warm and cool light (per-channel linear gains). Score: median ΔE76
  between render(g · image) and g · render(image) over the painted pixels, target <= 3; with the
  reference landmarks (the lens alone) and with arlens' FaceTracker on each image (tracking included).
- ``video``: a hand sweeping across the mouth of each portrait, tracked frame by frame in video mode
  (faces and hands). Score per frame as ``hand_over_mouth``; median, max and frames above 1%.
- ``nails``: both hands (open_palm as the back of the hand) on their black backgrounds and pasted on
  the astronaut photo and on flat skin colour. Score: pixels painted where the hand's matte is below
  0.5 (off the finger), target 0; and the share of pointing.jpg's old red polish left showing.
- ``stability``: the talking-head clip (reference landmarks) and each portrait filmed still (sensor noise of
  3 grey levels and 0.3 px of landmark jitter a frame, 16 frames), each frame's scene alone (before) and
  with a ``SceneMemory`` (after): the light direction's change per frame (degrees; the gloss highlight
  follows it), the lip class mean's change per frame (colour-model units) and, on the still faces, the
  gloss highlight's move per frame (mouth widths); and a light turned warm from one frame to the next:
  the remembered gains against that frame's own estimate (no lag wanted).
- ``shimmer``: the share of lip pixels where shimmer differs from satin by ΔE76 > 5 (the issue saw 2-3%)
  and the median glint size.

Results are printed as tables and written as JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "demos"))

import hard_scenes as HS  # noqa: E402
from harness import TESTDATA, metadata, write_json  # noqa: E402
from lipstick_contact_sheet import load_faces  # noqa: E402

from arlens.lenses.lipstick import LipstickLens  # noqa: E402
from arlens.lenses.nails import NailPolishLens  # noqa: E402
from arlens.render import color as C  # noqa: E402
from arlens.render import mask as M  # noqa: E402
from arlens.scene import Scene, SceneMemory, SceneOptions  # noqa: E402
from arlens.tracking.results import Face, Hand, bbox_of  # noqa: E402

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "bench_scene.json"
SHADE = "#B3172B"
HANDS = (("open_palm", 170.0), ("pointing", 90.0))


def reference_hand(reference: Path, stem: str) -> Hand:
    with np.load(reference / f"{stem}.npz") as data:
        lm = data["hands"][0, 0].astype(np.float32)
        return Hand(lm, str(data["handedness"][0, 0]), 1.0, bbox_of(lm))


def lenses() -> tuple[LipstickLens, LipstickLens]:
    before = LipstickLens(color=SHADE, opacity=1.0, refine_edges=False, scene_light=False, occluders=False,
                    match_camera=False)
    after = LipstickLens(color=SHADE, opacity=1.0)
    return before, after


def hand_over_mouth(faces, hands, hand_tracker) -> dict:
    before, after = lenses()
    rows = {}
    for name, image, face in faces:
        for stem, (hand_image, hand, angle) in hands.items():
            comp = HS.hand_over_mouth(image, face, hand_image, hand, cover=0.5, angle_deg=angle, side=-1)
            zone = HS.lip_zone(image.shape, face)
            tracked = hand_tracker.detect(comp.image)

            def score(out, comp=comp, zone=zone):
                return HS.paint_on(comp.image, out, comp.truth, zone)

            rows[f"{name}+{stem}"] = {
                "before": score(before.render(comp.image, [face])),
                "colour_only": score(after.render(comp.image, [face])),
                "tracked": score(after.render(comp.image, [face], Scene(comp.image, [face], tracked))),
                "hands_tracked": len(tracked),
                "known": score(after.render(comp.image, [face], Scene(comp.image, [face], [comp.hand]))),
            }
    return rows


def objects(faces) -> dict:
    before, after = lenses()
    rows = {}
    for name, image, face in faces:
        zone = HS.lip_zone(image.shape, face)
        for obj in HS.OBJECTS:
            comp = HS.object_over_mouth(image, face, obj, cover=0.5)

            def score(out, comp=comp, zone=zone):
                return HS.paint_on(comp.image, out, comp.truth, zone)

            off = Scene(comp.image, [face], options=SceneOptions(object_occluders=False))
            tracked = Face(face.landmarks, face.score, face.bbox, track_id=1)
            memory = SceneMemory()
            for _ in range(5):
                after.render(image, [tracked], Scene(image, [tracked], memory=memory))
            rows[f"{name}+{obj}"] = {
                "before": score(before.render(comp.image, [face])),
                "colour_only": score(after.render(comp.image, [face], off)),
                "objects": score(after.render(comp.image, [face], Scene(comp.image, [face]))),
                "video": score(after.render(comp.image, [tracked], Scene(comp.image, [tracked], memory=memory))),
            }
            for light_name, gains in HS.LIGHTS.items():
                lit = HS.apply_light(comp.image, gains)
                out = after.render(lit, [face], Scene(lit, [face]))
                rows[f"{name}+{obj}"][light_name] = HS.paint_on(lit, out, comp.truth, zone)
    return rows


def light(faces, face_tracker) -> dict:
    before, after = lenses()
    rows = {}
    for name, image, face in faces:
        for light_name, gains in HS.LIGHTS.items():
            entry = {}
            for label, lens in (("before", before), ("after", after)):
                de_ref, _ = HS.light_consistency(image, lambda f, lens=lens, face=face: lens.render(f, [face]), gains)

                def tracked(frame, lens=lens):
                    return lens.render(frame, face_tracker.detect(frame)[:1])

                de_trk, _ = HS.light_consistency(image, tracked, gains)
                entry[label] = {"reference_landmarks": de_ref, "tracked": de_trk}
            rows[f"{name}/{light_name}"] = entry
    return rows


def video(faces, hands, frames: int) -> dict:
    from arlens.tracking.face import FaceTracker
    from arlens.tracking.hand import HandTracker

    before, after = lenses()
    rows = {}
    hand_image, hand, _ = hands["open_palm"]
    for name, image, face in faces:
        clip = HS.hand_sweep(image, face, hand_image, hand, frames=frames, angle_deg=170.0)
        scores = {"before": [], "after": []}
        with FaceTracker() as ft, HandTracker(max_hands=2) as ht:
            for i, comp in enumerate(clip):
                ts = 33 * i
                found = ft.track(comp.image, ts)[:1]
                tracked_hands = ht.track(comp.image, ts)
                faces_now = found or [face]
                zone = HS.lip_zone(image.shape, faces_now[0])
                scores["before"].append(HS.paint_on(comp.image, before.render(comp.image, faces_now), comp.truth, zone))
                scene = Scene(comp.image, faces_now, tracked_hands)
                scores["after"].append(HS.paint_on(comp.image, after.render(comp.image, faces_now, scene), comp.truth,
                                                   zone))
        rows[name] = {k: {"median": float(np.median(v)), "max": float(np.max(v)),
                          "frames_over_1pct": int((np.asarray(v) > 0.01).sum()), "frames": len(v)}
                      for k, v in scores.items()}
    return rows


def nails(hands) -> dict:
    rows = {}
    backgrounds = {
        "astronaut": cv2.resize(cv2.imread(str(ROOT / "tests" / "data" / "astronaut.png")), (700, 700)),
        "skin": np.full((700, 700, 3), (150, 175, 215), np.uint8),
    }
    for stem, (image, hand, _) in hands.items():
        if stem == "open_palm":  # the palm faces the camera: painted as the back of the hand, as the tests do
            hand = Hand(hand.landmarks, "Right", 1.0, hand.bbox)
        scenes = {"black": (image, HS.cutout(image, erode=0), hand)}
        for bg_name, bg in backgrounds.items():
            comp = HS.hand_on_background(image, hand, bg, scale=0.6)
            scenes[bg_name] = (comp.image, comp.truth, Hand(comp.hand.landmarks, hand.handedness, 1.0, comp.hand.bbox))
        for bg_name, (frame, truth, h) in scenes.items():
            entry = {}
            for label, lens in (("before", NailPolishLens(color="#1F5FBF", follow_image=False, scene_light=False)),
                                ("after", NailPolishLens(color="#1F5FBF"))):
                painted = HS.painted(frame, lens.render(frame, [h]))
                entry[label] = {"off_finger_px": int((painted & (truth < 0.5)).sum()), "painted_px": int(painted.sum())}
            rows[f"{stem}/{bg_name}"] = entry
    image, hand, _ = hands["pointing"]
    lab = C.bgr_to_lab(image)
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]]
    near = np.zeros(image.shape[:2], bool)
    for tip in (4, 8, 12, 16, 20):
        x, y = hand.landmarks[tip, :2]
        near |= (xs + 0.5 - x) ** 2 + (ys + 0.5 - y) ** 2 <= (0.25 * hand.size) ** 2
    polish = near & (lab[..., 1] > 18) & (lab[..., 0] < 45)
    for label, lens in (("before", NailPolishLens(color="#1F5FBF", follow_image=False)),
                        ("after", NailPolishLens(color="#1F5FBF"))):
        painted = HS.painted(image, lens.render(image, [hand]))
        rows.setdefault("old_polish_left_showing", {})[label] = float((polish & ~painted).sum() / polish.sum())
    return rows


def stability(faces, frames_to_run: int = 16) -> dict:
    from arlens.lenses.lipstick import half_vector
    from arlens.scene import SceneMemory
    from arlens.tracking.results import Face

    def angles(d):
        d = np.asarray(d, dtype=np.float64)
        return np.degrees(np.arccos(np.clip((d[1:] * d[:-1]).sum(axis=1), -1, 1)))

    def steps(x):
        return np.linalg.norm(np.diff(np.asarray(x, dtype=np.float64), axis=0), axis=1)

    rows = {}
    clip = read_clip()
    for label, memory_on in (("before", False), ("after", True)):
        memory = SceneMemory() if memory_on else None
        dirs, lips = [], []
        for frame, face in clip:
            fs = Scene(frame, [face], memory=memory).face(0)
            dirs.append(fs.light.direction)
            lips.append(fs.colors.lip.mean)
        rows.setdefault("talking_head", {})[label] = {
            "direction_deg_median": float(np.median(angles(dirs))),
            "direction_deg_p90": float(np.percentile(angles(dirs), 90)),
            "lip_mean_step_median": float(np.median(steps(lips)))}
    for name, image, face0 in faces:
        geom = M.lip_geometry(face0.landmarks, image.shape)
        u, v = geom.local_uv()
        for label, memory_on in (("before", False), ("after", True)):
            rng = np.random.default_rng(1)
            memory = SceneMemory() if memory_on else None
            dirs, lips, gloss = [], [], []
            for _ in range(frames_to_run):
                frame = np.clip(image + rng.normal(0.0, 3.0, image.shape), 0, 255).astype(np.uint8)
                lm = face0.landmarks + rng.normal(0.0, 0.3, face0.landmarks.shape).astype(np.float32)
                face = Face(landmarks=lm, score=1.0, bbox=bbox_of(lm), track_id=1)
                fs = Scene(frame, [face], memory=memory).face(0)
                dirs.append(fs.light.direction)
                lips.append(fs.colors.lip.mean)
                g = M.gloss_map(geom, u, v, half_vector(fs))
                gloss.append(((g * u).sum() / g.sum(), (g * v).sum() / g.sum()))
            rows.setdefault(f"{name} still", {})[label] = {
                "direction_deg_median": float(np.median(angles(dirs))),
                "lip_mean_step_median": float(np.median(steps(lips))),
                "gloss_step_median": float(np.median(steps(gloss)))}
        # a light switched warm between frames 4 and 5: the remembered gains against that frame's own
        memory = SceneMemory()
        face = Face(landmarks=face0.landmarks, score=1.0, bbox=face0.bbox, track_id=1)
        for i in range(6):
            frame = image if i < 5 else HS.apply_light(image, HS.LIGHTS["warm"])
            remembered = Scene(frame, [face], memory=memory).face(0).light.gains
        alone = Scene(frame, [face]).face(0).light.gains
        rows[f"{name} still"]["light_step_lag"] = float(np.abs(remembered / alone - 1).max())
    return rows


def read_clip() -> list:
    """The talking-head clip's frames with Google's reference landmarks (frames without a face left out)."""
    from arlens.tracking.results import Face

    cap = cv2.VideoCapture(str(TESTDATA / "faces" / "talking_head.gif"))
    with np.load(TESTDATA.parent / "reference" / "talking_head.npz") as data:
        meshes, found = data["face_mesh_478"], data["face_found"]
    out, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        lm = meshes[i].astype(np.float32)
        if found[i] and np.isfinite(lm).all():
            out.append((frame, Face(landmarks=lm, score=1.0, bbox=bbox_of(lm), track_id=1)))
        i += 1
    return out


def shimmer(faces) -> dict:
    rows = {}
    for name, image, face in faces:
        satin = LipstickLens(color="#C77D72", finish="satin", opacity=0.9).render(image, [face])
        shim = LipstickLens(color="#C77D72", finish="shimmer", opacity=0.9).render(image, [face])
        geom = M.lip_geometry(face.landmarks, image.shape)
        x0, y0, x1, y1 = geom.box
        hard = np.zeros(image.shape[:2], bool)
        hard[y0:y1, x0:x1] = M.hard_lip_mask(geom)
        de = np.linalg.norm(C.bgr_to_lab(satin[hard]) - C.bgr_to_lab(shim[hard]), axis=1)
        visible = np.zeros(image.shape[:2], np.uint8)
        visible[hard] = de > 5
        n, _, stats, _ = cv2.connectedComponentsWithStats(visible)
        rows[name] = {"share_de_over_5": float((de > 5).mean()), "glints": int(n - 1),
                      "median_glint_px": float(np.median(stats[1:, cv2.CC_STAT_AREA])) if n > 1 else 0.0,
                      "mouth_px": float(geom.width)}
    return rows


def print_results(result: dict) -> None:
    print("\n== hand over the mouth: share of the hand's lip-zone pixels painted (target 0)")
    print(f"{'scene':28s} {'before':>8s} {'colour':>8s} {'tracked':>8s} {'(hands)':>7s} {'known':>8s}")
    for k, r in result["hand_over_mouth"].items():
        print(f"{k:28s} {r['before']:8.3f} {r['colour_only']:8.3f} {r['tracked']:8.3f} {r['hands_tracked']:7d} "
              f"{r['known']:8.3f}")
    print("\n== objects over the mouth: share of the object's lip-zone pixels painted (target 0)")
    lights = tuple(HS.LIGHTS)
    print(f"{'scene':28s} {'before':>8s} {'colour':>8s} {'objects':>8s} {'video':>8s}"
          + "".join(f" {n:>8s}" for n in lights))
    for k, r in result["objects"].items():
        print(f"{k:28s} {r['before']:8.3f} {r['colour_only']:8.3f} {r['objects']:8.3f} {r['video']:8.3f}"
              + "".join(f" {r[n]:8.3f}" for n in lights))
    print("\n== light: median ΔE76 of render(g·image) vs g·render(image) (target <= 3)")
    print(f"{'scene':24s} {'before ref':>10s} {'after ref':>10s} {'before trk':>10s} {'after trk':>10s}")
    for k, r in result["light"].items():
        print(f"{k:24s} {r['before']['reference_landmarks']:10.1f} {r['after']['reference_landmarks']:10.1f} "
              f"{r['before']['tracked']:10.1f} {r['after']['tracked']:10.1f}")
    print("\n== video: a hand sweeping across the mouth, paint on the hand per frame")
    for k, r in result["video"].items():
        b, a = r["before"], r["after"]
        print(f"{k:16s} before median {b['median']:.3f} max {b['max']:.3f} >1%: {b['frames_over_1pct']}/{b['frames']}"
              f" | after median {a['median']:.3f} max {a['max']:.3f} >1%: {a['frames_over_1pct']}/{a['frames']}")
    print("\n== nails: pixels painted off the finger (target 0)")
    for k, r in result["nails"].items():
        if k == "old_polish_left_showing":
            print(f"{'old polish left showing':28s} before {r['before']:.3f} after {r['after']:.3f}")
            continue
        print(f"{k:28s} before {r['before']['off_finger_px']:5d} of {r['before']['painted_px']:5d}   "
              f"after {r['after']['off_finger_px']:5d} of {r['after']['painted_px']:5d}")
    print("\n== stability: each frame's scene alone (before) and with a SceneMemory (after)")
    for k, r in result.get("stability", {}).items():
        b, a = r["before"], r["after"]
        line = (f"{k:22s} light direction {b['direction_deg_median']:.2f} -> {a['direction_deg_median']:.2f} "
                f"deg/frame, "
                f"lip class {b['lip_mean_step_median']:.2f} -> {a['lip_mean_step_median']:.2f}/frame")
        if "gloss_step_median" in b:
            line += f", gloss highlight {b['gloss_step_median']:.4f} -> {a['gloss_step_median']:.4f} mouth widths/frame"
        if "direction_deg_p90" in b:
            line += f" (p90 {b['direction_deg_p90']:.1f} -> {a['direction_deg_p90']:.1f})"
        if "light_step_lag" in r:
            line += f"; warm light switched on: remembered gains within {100 * r['light_step_lag']:.1f}% at once"
        print(line)
    print("\n== shimmer against satin (the issue saw 2-3% of lip pixels above ΔE 5)")
    for k, r in result["shimmer"].items():
        print(f"{k:16s} ΔE>5 on {r['share_de_over_5']:.3f} of the lips, {r['glints']} glints, median "
              f"{r['median_glint_px']:.0f} px (mouth {r['mouth_px']:.0f} px)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--testdata", type=Path, default=TESTDATA)
    parser.add_argument("--reference", type=Path, default=TESTDATA.parent / "reference")
    parser.add_argument("--parts", nargs="*",
                        default=["hand_over_mouth", "objects", "light", "video", "nails", "stability", "shimmer"])
    args = parser.parse_args(argv)
    from arlens.tracking.face import FaceTracker
    from arlens.tracking.hand import HandTracker

    faces = [f for f in load_faces(args.testdata, args.reference) if f[0] != "talking_head"]
    hands = {stem: (cv2.imread(str(args.testdata / "hands" / f"{stem}.jpg")), reference_hand(args.reference, stem),
                    angle) for stem, angle in HANDS}
    result: dict = {"benchmark": "scene", "metadata": metadata()}
    with FaceTracker() as ft, HandTracker(max_hands=2) as ht:
        parts = {
            "hand_over_mouth": lambda: hand_over_mouth(faces, hands, ht),
            "objects": lambda: objects(load_faces(args.testdata, args.reference)),
            "light": lambda: light(faces, ft),
            "video": lambda: video(faces, hands, args.frames),
            "nails": lambda: nails(hands),
            "stability": lambda: stability(faces),
            "shimmer": lambda: shimmer(load_faces(args.testdata, args.reference)),
        }
        for part in args.parts:
            result[part] = parts[part]()
            print(f"{part}: done", flush=True)
    print_results({k: result.get(k, {}) for k in ("hand_over_mouth", "objects", "light", "video", "nails", "stability",
                                                  "shimmer")})
    write_json(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
