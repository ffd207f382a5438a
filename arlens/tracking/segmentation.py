"""PersonSegmenter: MediaPipe's selfie segmentation (person vs background) on ONNX Runtime.

As MediaPipe's ``SelfieSegmentationCpu`` graph with ``model_selection=0``: the whole frame is warped to
256x256 without keeping its aspect ratio (``ImageToTensorCalculator``'s OpenCV converter: the frame's
corners onto the tensor's, bilinear, RGB in [0, 1]), the model
(``selfie_segmentation.onnx``, converted from the wheel's .tflite, its ``Convolution2DTransposeBias``
upsampling rewritten as ONNX's ConvTranspose: ``models/README.md``) gives a 256x256 person probability,
and that is brought back to the frame's size bilinearly (``TensorsToSegmentationCalculator``). The result
keeps the model's low-resolution output and scales it only where asked (:meth:`PersonMask.crop`), so a
lens asking about a lip box pays for the lip box.

What it is for: the person against the background (a kiosk's background blur, hair and background beside
a face or a hand). It is not an occluder mask: a hand or a cup in front of a face is person (or held by
one), not background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from arlens.errors import InputError
from arlens.image import as_bgr
from arlens.runtime import Model, RuntimeOptions

#: The model's input side (square).
INPUT_SIZE = 256


@dataclass(frozen=True)
class PersonSegmenterOptions:
    """Settings of a :class:`PersonSegmenter`.

    Attributes:
        runtime: ONNX Runtime device, providers and threads.
    """

    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self) -> None:
        if not isinstance(self.runtime, RuntimeOptions):
            raise InputError(
                f"PersonSegmenterOptions.runtime: expected RuntimeOptions, got {type(self.runtime).__name__}")


@dataclass(frozen=True)
class PersonMask:
    """The person/background mask of one frame.

    Attributes:
        low: float32 (256, 256) person probability 0..1, the model's output over the whole frame squeezed
            to a square (read-only).
        frame_shape: (H, W) of the frame it was computed on.
    """

    low: np.ndarray
    frame_shape: tuple[int, int]

    def __post_init__(self) -> None:
        low = np.asarray(self.low, dtype=np.float32)
        if low.ndim != 2 or min(low.shape) < 1:
            raise InputError(f"PersonMask.low: expected a float32 (h, w) array, got shape {low.shape}")
        h, w = (int(v) for v in self.frame_shape[:2])
        if h < 1 or w < 1:
            raise InputError(f"PersonMask.frame_shape: expected (H, W) >= 1, got {self.frame_shape!r}")
        low = low.view()
        low.setflags(write=False)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "frame_shape", (h, w))

    def crop(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """float32 (h, w) person probability over frame pixels ``box`` (x0, y0, x1, y1), bilinear from
        :attr:`low` (pixel centres matched, as a full-frame resize would give, edges replicated)."""
        x0, y0, x1, y1 = (int(v) for v in box)
        h, w = max(0, y1 - y0), max(0, x1 - x0)
        if h == 0 or w == 0:
            return np.zeros((h, w), np.float32)
        fh, fw = self.frame_shape
        lh, lw = self.low.shape
        sx, sy = lw / fw, lh / fh
        # box pixel (i, j) -> low-resolution coordinates of its centre
        m = np.array([[sx, 0.0, (x0 + 0.5) * sx - 0.5], [0.0, sy, (y0 + 0.5) * sy - 0.5]], np.float32)
        return cv2.warpAffine(np.ascontiguousarray(self.low), m, (w, h),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)

    def full(self) -> np.ndarray:
        """float32 (H, W) person probability over the whole frame."""
        h, w = self.frame_shape
        return self.crop((0, 0, w, h))


class PersonSegmenter:
    """Person vs background in a frame, MediaPipe's selfie segmentation on ONNX Runtime.

    Args:
        options: :class:`PersonSegmenterOptions`.

    A context manager holding one ONNX Runtime session; ``segment`` is for still images and video alike
    (the model has no state).
    """

    def __init__(self, options: PersonSegmenterOptions | None = None) -> None:
        self.options = options if options is not None else PersonSegmenterOptions()
        if not isinstance(self.options, PersonSegmenterOptions):
            raise InputError(f"options: expected PersonSegmenterOptions, got {type(self.options).__name__}")
        self._model: Model | None = Model("selfie_segmentation", self.options.runtime)

    def segment(self, frame: np.ndarray) -> PersonMask:
        """The :class:`PersonMask` of ``frame`` (uint8 BGR, or anything :func:`arlens.image.as_bgr` takes).

        Raises:
            InputError: a bad frame, or a closed segmenter.
        """
        if self._model is None:
            raise InputError("PersonSegmenter: closed; build a new one")
        image = as_bgr(frame, "frame")
        h, w = image.shape[:2]
        # MediaPipe's OpenCV ImageToTensor: the frame's corners onto the tensor's (an affine from the ROI's
        # corner points), bilinear, zeros outside: tensor pixel x samples frame x * W / 256
        m = np.array([[INPUT_SIZE / w, 0.0, 0.0], [0.0, INPUT_SIZE / h, 0.0]], np.float32)
        small = cv2.warpAffine(image, m, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        tensor = cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32)
        tensor *= np.float32(1.0 / 255.0)
        (out,) = self._model(tensor[None])
        return PersonMask(np.clip(out[0, :, :, 0], 0.0, 1.0), (h, w))

    @property
    def providers(self) -> list[str]:
        """The session's execution providers (empty once closed)."""
        return list(self._model.session.get_providers()) if self._model is not None else []

    def close(self) -> None:
        """Release the ONNX Runtime session."""
        self._model = None

    def __enter__(self) -> PersonSegmenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
