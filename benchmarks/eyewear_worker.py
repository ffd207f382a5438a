"""Render eyewear on request and time it: the other side of ``bench_eyewear.py --baseline``.

Run by ``bench_eyewear.py`` with another checkout of arlens first on ``PYTHONPATH`` (the baseline), so the
same frames are drawn by the old and the new lens in lockstep, block by block, in one run on one machine.
Uses only what every arlens version has had: ``EyewearLens(EyewearOptions(model, frame_width_mm))`` and
``lens.render(frame, faces, camera)``; a version with ``EyewearOptions.reuse_px`` gets 0 (every render draws, as
the new side does unless ``--reuse-px`` says otherwise: the same frame rendered again would reuse its drawing).

Protocol (one JSON object per line): the first line on stdin names an ``.npz`` of frames and landmarks
(``{"cases": path}``); each later line ``{"model": "round.glb", "width": 132, "case": 0, "n": 5}`` is answered
with ``{"ms": [...]}``; ``{"quit": true}`` ends it. ``ARLENS_BENCH_CLOCK=process`` times the process's CPU time
(every thread).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np


def main() -> None:
    import dataclasses

    from arlens.lenses.eyewear import EyewearLens, EyewearOptions
    from arlens.tracking.camera import PerspectiveCamera
    from arlens.tracking.pose import estimate_pose
    from arlens.tracking.results import Face, bbox_of

    first = json.loads(sys.stdin.readline())
    with np.load(first["cases"]) as data:
        frames = [data[f"frame{i}"] for i in range(int(data["count"]))]
        landmarks = [data[f"landmarks{i}"] for i in range(int(data["count"]))]
    cases = []
    for frame, lms in zip(frames, landmarks, strict=True):
        cam = PerspectiveCamera(frame.shape[1], frame.shape[0])
        faces = [Face(lm, 1.0, bbox_of(lm), estimate_pose(lm, cam)) for lm in lms]
        cases.append((frame, faces, cam))
    clock = time.process_time if os.environ.get("ARLENS_BENCH_CLOCK") == "process" else time.perf_counter
    lenses: dict[tuple[str, float], EyewearLens] = {}
    extra = {"reuse_px": 0.0} if "reuse_px" in {f.name for f in dataclasses.fields(EyewearOptions)} else {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        key = (request["model"], float(request["width"]))
        if key not in lenses:
            lenses[key] = EyewearLens(EyewearOptions(model=key[0], frame_width_mm=key[1], **extra))
        frame, faces, cam = cases[int(request["case"])]
        lens = lenses[key]
        ms = []
        for _ in range(int(request["n"])):
            t0 = clock()
            lens.render(frame, faces, cam)
            ms.append((clock() - t0) * 1000.0)
        print(json.dumps({"ms": ms}), flush=True)
    for lens in lenses.values():
        lens.close()


if __name__ == "__main__":
    main()
