"""Write contact sheets of every demo lipstick shade on every test face.

Usage:
    python demos/lipstick_contact_sheet.py --out /tmp/sheets [--backend onnx] [--testdata DIR] [--reference DIR]

Writes ``lipstick_faces.png`` (a face crop per shade and face) and ``lipstick_lips.png`` (zoomed lip
crops, to judge edges, teeth and texture). Shades come from ``arlens.Catalog.default()`` (its lipsticks)
when the catalog is available, else from the list below. Faces use MediaPipe's reference landmarks
(``../shared/reference``) so the sheet shows the lens alone, not tracking errors.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import cv2
import numpy as np

from arlens.lenses.lipstick import LipstickLens, LipstickOptions
from arlens.tracking.results import Face, bbox_of

ROOT = Path(__file__).resolve().parents[1]

#: (name, colour, finish, opacity): light, dark, warm and cool shades in every finish.
DEMO_SHADES = [
    ("Classic Red", "#B3172B", "satin", 0.9),
    ("Ruby Matte", "#8E1026", "matte", 1.0),
    ("Coral Gloss", "#E8604C", "gloss", 0.85),
    ("Nude Beige", "#C48A78", "satin", 0.9),
    ("Pale Pink", "#E8A0B4", "gloss", 0.8),
    ("Fuchsia", "#C2185B", "satin", 0.9),
    ("Berry", "#7B1E3C", "matte", 0.95),
    ("Plum Metallic", "#5E2750", "metallic", 0.9),
    ("Mauve", "#9E6B7E", "satin", 0.85),
    ("Brick", "#9B3A2A", "matte", 0.95),
    ("Rose Gold Shimmer", "#C77D72", "shimmer", 0.85),
    ("Deep Wine", "#4A0F1D", "satin", 0.95),
    ("Orange Red", "#E0401E", "gloss", 0.9),
    ("Chocolate", "#5C3325", "matte", 0.95),
]

FACES = [
    ("astronaut", "astronaut.png"),
    ("grace_hopper", "grace_hopper.jpg"),
    ("frontal_smile", "frontal_smile.png"),
    ("talking_head", "talking_head.gif"),
]


def _dir(env: str, default: Path) -> Path:
    return Path(os.environ.get(env, default))


def load_faces(testdata: Path, reference: Path) -> list[tuple[str, np.ndarray, Face]]:
    """The test images (first frame of the clip) with Faces built from the reference landmarks."""
    out = []
    for name, file in FACES:
        bundled = ROOT / "tests" / "data"  # the public-domain portraits ship with the tests
        path, ref = testdata / "faces" / file, reference / f"{name}.npz"
        path = path if path.exists() else bundled / file
        ref = ref if ref.exists() else bundled / f"{name}.npz"
        if not path.exists() or not ref.exists():
            logging.warning("skipping %s: %s or %s missing", name, path, ref)
            continue
        cap = cv2.VideoCapture(str(path))
        ok, image = cap.read()
        cap.release()
        if not ok:
            continue
        data = np.load(ref)
        if not data["face_found"][0]:
            continue
        lm = data["face_mesh_478"][0]
        out.append((name, image, Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))))
    return out


def demo_shades() -> list[tuple[str, LipstickOptions]]:
    """The catalog's lipsticks when ``arlens.Catalog.default()`` exists, else ``DEMO_SHADES``."""
    try:
        import arlens

        catalog = arlens.Catalog.default()
        products = [p for p in catalog if str(getattr(p.kind, "value", p.kind)) in ("lipstick", "lip_liner")]
        if products:
            return [(getattr(p, "color_name", None) or p.title, LipstickOptions.from_product(p)) for p in products]
    except Exception as exc:  # the catalog may not exist yet
        logging.info("using the built-in demo shades (%s)", exc)
    return [(n, LipstickOptions(color=c, finish=f, opacity=o)) for n, c, f, o in DEMO_SHADES]


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((18, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text[:34], (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, tile])


def _crop(image: np.ndarray, face: Face, lips: bool, width: int) -> np.ndarray:
    lm = face.landmarks[:, :2]
    if lips:
        from arlens.landmarks import lips_outer

        pts = lm[list(lips_outer())]
        c = pts.mean(axis=0)
        half = 0.75 * float(np.ptp(pts[:, 0]))
        x0, x1, y0, y1 = c[0] - half, c[0] + half, c[1] - 0.5 * half, c[1] + 0.5 * half
    else:
        x0, y0 = lm.min(axis=0)
        x1, y1 = lm.max(axis=0)
        pad = 0.1 * (x1 - x0)
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    h, w = image.shape[:2]
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
    crop = image[y0:y1, x0:x1]
    scale = width / crop.shape[1]
    interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(crop, (width, round(crop.shape[0] * scale)), interpolation=interp)


def contact_sheet(faces, shades, backend: str, lips: bool, width: int) -> np.ndarray:
    """One row per face: the original, then the face in every shade (each tile labelled)."""
    rows = []
    for name, image, face in faces:
        tiles = [_label(_crop(image, face, lips, width), f"{name} (original)")]
        for shade_name, options in shades:
            with LipstickLens(options, backend=backend) as lens:
                out = lens.render(image, [face])
            tiles.append(_label(_crop(out, face, lips, width), f"{shade_name} / {options.finish.value}"))
        height = max(t.shape[0] for t in tiles)
        tiles = [np.pad(t, ((0, height - t.shape[0]), (0, 2), (0, 0)), constant_values=255) for t in tiles]
        rows.append(np.pad(np.hstack(tiles), ((0, 2), (0, 0), (0, 0)), constant_values=255))
    width_max = max(r.shape[1] for r in rows)
    return np.vstack([np.pad(r, ((0, 0), (0, width_max - r.shape[1]), (0, 0)), constant_values=255) for r in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the sheets to")
    parser.add_argument("--backend", choices=("numpy", "onnx"), default="numpy")
    shared = ROOT.parent / "shared"
    parser.add_argument("--testdata", type=Path, default=_dir("ARLENS_TESTDATA", shared / "testdata"))
    parser.add_argument("--reference", type=Path, default=_dir("ARLENS_REFERENCE", shared / "reference"))
    parser.add_argument("--tile", type=int, default=160, help="tile width in pixels")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    faces = load_faces(args.testdata, args.reference)
    if not faces:
        parser.error(f"no test faces found under {args.testdata} with references in {args.reference}")
    shades = demo_shades()
    args.out.mkdir(parents=True, exist_ok=True)
    for lips, file in ((False, "lipstick_faces.png"), (True, "lipstick_lips.png")):
        sheet = contact_sheet(faces, shades, args.backend, lips, args.tile if not lips else int(args.tile * 1.25))
        cv2.imwrite(str(args.out / file), sheet)
        logging.info("wrote %s (%dx%d, %d shades x %d faces)", args.out / file, sheet.shape[1], sheet.shape[0],
                     len(shades), len(faces))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
