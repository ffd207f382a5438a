#!/usr/bin/env python3
"""Reference person masks from Google's own MediaPipe graph, to check arlens' PersonSegmenter against.

Runs MediaPipe's legacy ``SelfieSegmentation`` solution with ``model_selection=0``
(``selfie_segmentation.tflite`` with its ``Convolution2DTransposeBias`` custom op, through Google's C++
graph and TFLite/XNNPACK) from the ``mediapipe==0.10.21`` wheel on the two public-domain portraits of
``tests/data`` as they are, mirrored, and pasted into 1280x720 frames (``benchmarks/kiosk_scenes.py``'s
grey background, a face at arm's length and a far one).

It needs MediaPipe's virtual environment (mediapipe 0.10.21 pins numpy<2), not arlens'::

    /work/venv-mp/bin/python tools/make_segmentation_reference.py -o tests/data/segmentation_reference.npz

The .npz holds, per case (``cases`` (C,) str), ``mask_<i>``: MediaPipe's segmentation mask at the image's
size, quantised to uint8 (0..255 for 0..1). The images are rebuilt by the test from the portraits (the
case names say how); only the masks are stored.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import cv2
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from kiosk_scenes import Placement, scene  # noqa: E402

#: (case name, how to build it): a portrait as it is, mirrored, or pasted into a 1280x720 scene.
CASES = {
    "astronaut": ("astronaut.png", None),
    "grace_hopper": ("grace_hopper.jpg", None),
    "astronaut/mirrored": ("astronaut.png", "mirror"),
    "scene/astronaut_near": ("astronaut.png", Placement("astronaut.png", 125.0, (640.0, 360.0))),
    "scene/grace_far": ("grace_hopper.jpg", Placement("grace_hopper.jpg", 40.0, (900.0, 300.0))),
}


def build(name: str) -> np.ndarray:
    """The BGR image of case ``name`` (``tests/tracking/test_segmentation.py`` imports this module for it)."""
    file, how = CASES[name]
    image = cv2.imread(str(ROOT / "tests" / "data" / file))
    if how is None:
        return image
    if how == "mirror":
        return np.ascontiguousarray(image[:, ::-1])
    return scene([how], {file: image})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=pathlib.Path,
                        default=ROOT / "tests" / "data" / "segmentation_reference.npz")
    args = parser.parse_args()
    import mediapipe as mp  # here, not at the top: the test imports CASES and build() without mediapipe

    out = {"cases": np.array(list(CASES))}
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        for i, name in enumerate(CASES):
            image = build(name)
            mask = seg.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).segmentation_mask
            out[f"mask_{i}"] = np.clip(np.rint(mask * 255.0), 0, 255).astype(np.uint8)
            print(f"{name}: {image.shape[1]}x{image.shape[0]}, person share {float((mask > 0.5).mean()):.3f}")
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
