"""Rendering primitives shared by the lenses: masks from landmarks, colour science, ONNX compositing graphs."""
