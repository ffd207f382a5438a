"""Embed an arlens try-on session in your own program: ~20 lines, an image or a video file in, a try-on out.

Usage: ``python demos/embed_session.py INPUT OUTPUT [PRODUCT_ID ...]`` (default products: a red lipstick
and round frames from the bundled demo catalog). INPUT is a photo (.png/.jpg) or a video (.mp4, ...).
"""

import sys

import cv2

import arlens
from arlens.session import TryOn

src, dst, *ids = sys.argv[1:] or ["tests/data/astronaut.png", "tryon.png"]
with TryOn(arlens.Catalog.default(), ids or ["LIP-004", "EYE-101"]) as session:
    if src.lower().endswith((".png", ".jpg", ".jpeg")):
        result = session.process_image(cv2.imread(src))
        cv2.imwrite(dst, result.frame)
    else:
        cap, out, i = cv2.VideoCapture(src), None, 0
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        while (frame := cap.read()[1]) is not None:
            result = session.process(frame, i * 1000.0 / fps)  # stream time in ms, increasing
            out = out or cv2.VideoWriter(dst, cv2.VideoWriter.fourcc(*"mp4v"), fps, frame.shape[1::-1])
            out.write(result.frame)
            i += 1
        cap.release(), out and out.release()
    for spot in result.hotspots:  # what is on screen, where, and how to buy it
        print(f"{spot.title}  {spot.price_text}  box={spot.bbox.round().tolist()}  {spot.buy_link}")
