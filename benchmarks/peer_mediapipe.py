"""The peer: Google's legacy MediaPipe solutions timed on the same frames (run in the peer's own venv).

Needs a virtual environment with ``mediapipe==0.10.21`` (it pins numpy<2, so never arlens' own):

    python3 -m venv /tmp/mpref && /tmp/mpref/bin/pip install "mediapipe==0.10.21"
    /tmp/mpref/bin/python benchmarks/peer_mediapipe.py FRAMES.npy --task face_mesh_refined

Reads BGR frames (N, H, W, 3) from an .npy file and prints JSON: per-frame milliseconds of
``process()`` in video (tracking) mode. The BGR->RGB conversion MediaPipe needs is done before the
clock starts, which favours the peer slightly.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import mediapipe as mp
import numpy as np

TASKS = {
    "face_mesh": lambda: mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                                         refine_landmarks=False),
    "face_mesh_refined": lambda: mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                                                 refine_landmarks=True),
    "hands": lambda: mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2),
    "hands_static": lambda: mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("frames")
    parser.add_argument("--task", choices=sorted(TASKS), default="face_mesh_refined")
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    frames = np.load(args.frames)
    rgb = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames]
    with TASKS[args.task]() as solution:
        for f in rgb[: args.warmup]:
            solution.process(f)
    ms = []
    found = 0
    with TASKS[args.task]() as solution:  # a fresh graph so the timed run starts like arlens' does
        for f in rgb:
            t0 = time.perf_counter()
            result = solution.process(f)
            ms.append((time.perf_counter() - t0) * 1000.0)
            landmarks = getattr(result, "multi_face_landmarks", None) or getattr(result, "multi_hand_landmarks", None)
            found += bool(landmarks)
    print(json.dumps({"task": args.task, "mediapipe": mp.__version__, "ms": ms, "frames_with_result": found}))


if __name__ == "__main__":
    main()
