"""The peer: Google's legacy MediaPipe solutions, timed frame by frame on the benchmarks' frames.

Runs in its own virtual environment with ``mediapipe==0.10.21`` (it pins numpy<2, so never arlens'
own); ``harness.PeerServer`` starts it as

    /tmp/mpref/bin/python benchmarks/peer_mediapipe.py FRAMES.npy --task face_mesh_refined

and drives it in lockstep with arlens (frame i by one, then by the other): on a shared machine whose
speed drifts, pairs taken a few milliseconds apart compare far better than two runs taken seconds
apart. It reads BGR frames (N, H, W, 3) from an .npy file, warms a graph up, prints one JSON line
(``{"ready": task, "mediapipe": version}``) and then answers requests on stdin, one per line: a frame
index (answered with one JSON line: ``{"ms": ..., "found": ..., "faces": ..., "hands": ...}``, the
milliseconds of ``process()`` and how many faces or hands it returned: ``found`` is the faces, or the
hands of a hands-only task),
``reset`` (a fresh graph, answered ``{"reset": true}``) or ``quit``. The BGR->RGB conversion MediaPipe
needs is done before the clock starts, which favours the peer slightly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import cv2
import mediapipe as mp
import numpy as np


class FaceMeshAndHands:
    """FaceMesh (refine_landmarks=True) and Hands (max 2 hands) on every frame, one after the other: what
    MediaPipe's own graphs need to track a shopper's face and hands (``face_mesh_refined+hands``)."""

    def __init__(self, max_faces: int) -> None:
        self.face = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=max_faces,
                                                    refine_landmarks=True)
        self.hands = mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2)

    def process(self, frame: np.ndarray):
        faces = self.face.process(frame)
        hands = self.hands.process(frame)
        return type("Result", (), {"multi_face_landmarks": faces.multi_face_landmarks,
                                   "multi_hand_landmarks": hands.multi_hand_landmarks})

    def close(self) -> None:
        self.face.close()
        self.hands.close()

    def __enter__(self) -> FaceMeshAndHands:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


TASKS = {
    "face_mesh": lambda n: mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=n,
                                                           refine_landmarks=False),
    "face_mesh_refined": lambda n: mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=n,
                                                                   refine_landmarks=True),
    "hands": lambda n: mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2),
    "hands_static": lambda n: mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2),
    "face_mesh_refined+hands": FaceMeshAndHands,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("frames")
    parser.add_argument("--task", choices=sorted(TASKS), default="face_mesh_refined")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-faces", type=int, default=1, help="FaceMesh's max_num_faces (face tasks)")
    args = parser.parse_args()
    frames = np.load(args.frames)
    rgb = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames]
    with TASKS[args.task](args.max_faces) as solution:
        for f in rgb[: args.warmup]:
            solution.process(f)
    serve(args.task, rgb, args.max_faces)


def timed(solution, frame: np.ndarray) -> tuple[float, int, int]:
    """Milliseconds of ``process()``, and how many faces and hands it returned."""
    t0 = time.perf_counter()
    result = solution.process(frame)
    ms = (time.perf_counter() - t0) * 1000.0
    faces = getattr(result, "multi_face_landmarks", None) or []
    hands = getattr(result, "multi_hand_landmarks", None) or []
    return ms, len(faces), len(hands)


def serve(task: str, rgb: list[np.ndarray], max_faces: int = 1) -> None:
    solution = TASKS[task](max_faces)
    print(json.dumps({"ready": task, "mediapipe": mp.__version__}), flush=True)
    for line in sys.stdin:
        request = line.strip()
        if request == "quit":
            break
        if request == "reset":
            solution.close()
            solution = TASKS[task](max_faces)
            print(json.dumps({"reset": True}), flush=True)
            continue
        ms, faces, hands = timed(solution, rgb[int(request)])
        print(json.dumps({"ms": ms, "found": faces or hands, "faces": faces, "hands": hands}), flush=True)
    solution.close()


if __name__ == "__main__":
    main()
