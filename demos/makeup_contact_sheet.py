"""Contact sheets of the make-up line: every default eye, brow, cheek and skin product on three faces, and the
catalog's complete looks.

Usage:
    python demos/makeup_contact_sheet.py --out /tmp/makeup-sheets [--testdata DIR] [--reference DIR]

Writes, under ``--out`` (keep it out of the repository):

- ``products.png``: one row per product (its kind, name, price, swatch and palette), one column per face:
  the two public-domain portraits, the close frontal face, and the astronaut recoloured to a deep skin tone
  (a composite: only the skin inside the face outline is darkened, so the frame's light stays as it was);
- ``looks.png``: each look (every product of it at once, in make-up order, with the set's total) on the same
  faces;
- ``eyes.png``: eye and brow products zoomed on the eyes of the close frontal face, to judge edges and strokes.

Faces use MediaPipe's reference landmarks (``../shared/reference``) so the sheets show the lenses alone, not
tracking errors. Everything goes through the public API: ``Catalog.default()``, ``MakeupLens``,
``LipstickLens``, ``Scene`` and the catalog's looks.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from arlens import landmarks as named
from arlens.catalog import Catalog
from arlens.lenses.base import groups
from arlens.lenses.registry import default_registry
from arlens.render import color as C
from arlens.scene import Scene
from arlens.tracking.results import Face, bbox_of

ROOT = Path(__file__).resolve().parents[1]
FACES = (("astronaut", "astronaut.png"), ("grace_hopper", "grace_hopper.jpg"), ("frontal_smile", "frontal_smile.png"))
MAKEUP = ("foundation", "contour", "highlighter", "blush", "eyeshadow", "eyeliner", "mascara", "brow")
TILE = 220
LABEL_W = 300


def load_faces(testdata: Path, reference: Path) -> list[tuple[str, np.ndarray, Face]]:
    out = []
    for stem, file in FACES:
        image_path, ref_path = testdata / "faces" / file, reference / f"{stem}.npz"
        if not image_path.is_file() or not ref_path.is_file():
            print(f"skipping {stem}: {image_path} or {ref_path} not found")
            continue
        with np.load(ref_path) as data:
            lm = data["face_mesh_478"][0].astype(np.float32)
        out.append((stem, cv2.imread(str(image_path)), Face(landmarks=lm, score=1.0, bbox=bbox_of(lm))))
    return out


def deep_skin(image: np.ndarray, face: Face) -> np.ndarray:
    """The face's skin recoloured deep (CIELAB L x 0.42, chroma x 1.15), eyes and mouth opening left alone."""
    lm = face.landmarks
    skin = np.zeros(image.shape[:2], np.float32)
    cv2.fillPoly(skin, [np.round((lm[list(named.face_oval()), :2] - 0.5) * 16).astype(np.int32)], 1.0, cv2.LINE_8, 4)
    for loop in (named.right_eye(), named.left_eye(), named.lips_inner()):
        cv2.fillPoly(skin, [np.round((lm[list(loop), :2] - 0.5) * 16).astype(np.int32)], 0.0, cv2.LINE_8, 4)
    iod = float(np.linalg.norm(lm[named.RIGHT_IRIS_CENTER, :2] - lm[named.LEFT_IRIS_CENTER, :2]))
    skin = cv2.GaussianBlur(skin, (0, 0), 0.02 * iod + 1.0)[..., None]
    lab = C.bgr_to_lab(image.reshape(-1, 3)).reshape(image.shape)
    deep = lab * np.float32([0.42, 1.15, 1.15])
    mixed = lab * (1 - skin) + deep * skin
    return np.clip(np.rint(C.lab_to_bgr(mixed.reshape(-1, 3))), 0, 255).astype(np.uint8).reshape(image.shape)


def crop(image: np.ndarray, face: Face, size: int = TILE, scale: float = 1.25, region: str = "face") -> np.ndarray:
    lm = face.landmarks[:, :2]
    if region == "eyes":
        idx = [*named.right_eye(), *named.left_eye(), *named.right_eyebrow(), *named.left_eyebrow()]
        lo, hi = lm[idx].min(axis=0), lm[idx].max(axis=0)
        scale = 1.15
    else:
        lo, hi = lm.min(axis=0), lm.max(axis=0)
    c = (lo + hi) / 2
    side = max(hi - lo) * scale
    x0, y0 = int(round(c[0] - side / 2)), int(round(c[1] - side / 2))
    s = max(2, int(round(side)))
    pad = max(0, -x0, -y0, x0 + s - image.shape[1], y0 + s - image.shape[0])
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else image
    if region == "eyes":
        h = s // 2
        out = padded[y0 + pad + s // 4 : y0 + pad + s // 4 + h, x0 + pad : x0 + pad + s]
        return cv2.resize(out, (2 * size, size), interpolation=cv2.INTER_AREA if s > 2 * size else cv2.INTER_CUBIC)
    out = padded[y0 + pad : y0 + pad + s, x0 + pad : x0 + pad + s]
    return cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA if s > size else cv2.INTER_CUBIC)


def _bgr(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (5, 3, 1))  # type: ignore[return-value]


def label(lines: list[str], swatches: list[str], height: int = TILE) -> np.ndarray:
    tile = np.full((height, LABEL_W, 3), 250, np.uint8)
    y = 28
    for k, line in enumerate(lines):
        size = 0.55 if k == 0 else 0.45
        cv2.putText(tile, line.encode("ascii", "replace").decode(), (10, y), cv2.FONT_HERSHEY_SIMPLEX, size,
                    (30, 30, 30) if k == 0 else (90, 90, 90), 1, cv2.LINE_AA)
        y += 24
    for k, colour in enumerate(swatches):
        centre = (22 + 34 * k, height - 28)
        cv2.circle(tile, centre, 14, _bgr(colour), -1, cv2.LINE_AA)
        cv2.circle(tile, centre, 14, (120, 120, 120), 1, cv2.LINE_AA)
    return tile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output folder (outside the repository)")
    shared = ROOT.parent / "shared"
    parser.add_argument("--testdata", type=Path, default=Path(os.environ.get("ARLENS_TESTDATA", shared / "testdata")))
    parser.add_argument("--reference", type=Path,
                        default=Path(os.environ.get("ARLENS_REFERENCE", shared / "reference")))
    args = parser.parse_args()
    faces = load_faces(args.testdata, args.reference)
    if not faces:
        parser.error("no test faces found (set --testdata and --reference)")
    astronaut = next((f for f in faces if f[0] == "astronaut"), faces[0])
    faces.append(("deep skin (composite)", deep_skin(astronaut[1], astronaut[2]), astronaut[2]))
    catalog = Catalog.default()
    registry = default_registry()
    scenes = [Scene(image, [face]) for _, image, face in faces]
    args.out.mkdir(parents=True, exist_ok=True)

    header = np.hstack([label(["product"], [], 40)] + [label([name], [], 40)[:, :TILE] for name, _, _ in faces])
    rows = [header]
    eye_rows = []
    for product in catalog:
        if product.kind is None or product.kind.value not in MAKEUP:
            continue
        lens = registry.build(product, catalog=catalog)
        palette = product.effective_palette
        text = [product.title, f"{product.kind.value} - {product.effective_pattern}", str(product.current_price)]
        tiles = [label(text, [c.color for c in palette])]
        for (_, image, face), scene in zip(faces, scenes, strict=True):
            tiles.append(crop(lens.render(image, [face], scene), face))
        rows.append(np.hstack(tiles))
        if product.kind.value in ("eyeshadow", "eyeliner", "mascara", "brow"):
            name, image, face = next((f for f in faces if f[0] == "frontal_smile"), faces[0])
            eye_rows.append(np.hstack([label(text[:2], [c.color for c in palette]),
                                       crop(lens.render(image, [face]), face, region="eyes")]))
    cv2.imwrite(str(args.out / "products.png"), np.vstack(rows))
    if eye_rows:
        cv2.imwrite(str(args.out / "eyes.png"), np.vstack(eye_rows))

    look_rows = [header]
    for look in catalog.looks:
        products = sorted(look.products(catalog), key=lambda p: registry.kinds().index(p.kind.value))
        lenses = [registry.build(p, catalog=catalog) for p in products]
        text = [look.title, f"{len(products)} products", f"set {look.total_price(catalog)}"]
        tiles = [label(text, [p.color for p in products if p.color][:8])]
        for (_, image, face), scene in zip(faces, scenes, strict=True):
            out = image.copy()
            runs = groups([(lens, faces) for lens in lenses])  # as TryOn draws a look: the make-up in one pass
            for lens in lenses:
                run = runs.get(id(lens))
                if run is None:
                    lens.render_into(out, [face], scene)
                elif run[0] is lens:
                    type(lens).render_group(run, out, [face], scene=scene)
            tiles.append(crop(out, face))
        look_rows.append(np.hstack(tiles))
    cv2.imwrite(str(args.out / "looks.png"), np.vstack(look_rows))
    print(f"wrote {args.out / 'products.png'}, {args.out / 'looks.png'}, {args.out / 'eyes.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
