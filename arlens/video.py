"""Writing videos a browser plays: H.264 in MP4 (or MOV, M4V, MKV) and VP9 in WebM, through PyAV's FFmpeg.

OpenCV's ``VideoWriter`` in the PyPI wheels writes MPEG-4 part 2 (``mp4v``), which no browser plays,
and cannot write WebM. PyAV's wheels bundle FFmpeg with libx264 and libvpx, so arlens encodes with
them: ``yuv420p`` (the pixel format every browser and phone decodes), a constant-quality rate factor,
and for MP4 the index moved to the front (``+faststart``) so playback starts before the download ends.

4:2:0 chroma needs an even width and height: an odd size is cropped by one pixel on the right or bottom,
and :attr:`VideoWriter.size` says what is written.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from arlens.errors import InputError, RuntimeUnavailableError

#: Output suffix -> (FFmpeg encoder, what it is, the encoder options).
ENCODERS: dict[str, tuple[str, str, dict[str, str]]] = {
    ".mp4": ("libx264", "H.264", {"crf": "18", "preset": "medium"}),
    ".m4v": ("libx264", "H.264", {"crf": "18", "preset": "medium"}),
    ".mov": ("libx264", "H.264", {"crf": "18", "preset": "medium"}),
    ".mkv": ("libx264", "H.264", {"crf": "18", "preset": "medium"}),
    ".webm": ("libvpx-vp9", "VP9", {"crf": "32", "b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"}),
}
#: Encoder options that keep up with a live camera on a small CPU (a kiosk recording what its screen shows):
#: x264's "veryfast" preset and VP9's realtime mode, a larger file for the same quality.
REALTIME_OPTIONS: dict[str, dict[str, str]] = {
    "libx264": {"preset": "veryfast"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
}
#: The file suffixes :class:`VideoWriter` writes.
SUFFIXES = tuple(ENCODERS)
_FASTSTART = (".mp4", ".m4v", ".mov")

if TYPE_CHECKING:
    import numpy as np


def frame_rate(fps: float) -> Fraction:
    """``fps`` as the exact fraction a container stores: NTSC's n * 1000/1001 rates (29.97, 59.94, 23.976, as
    players and cameras report them, rounded) as such, anything else as the nearest fraction with a small
    denominator."""
    ntsc = Fraction(round(fps * 1001 / 1000) * 1000, 1001)
    if ntsc and abs(float(ntsc) - fps) < 0.0015:
        return ntsc
    return Fraction(fps).limit_denominator(1001)


def even_size(width: int, height: int) -> tuple[int, int]:
    """The size written for a ``width`` x ``height`` source: each rounded down to an even number (at least 2)."""
    return max(2, width - width % 2), max(2, height - height % 2)


class VideoWriter:
    """A video file being written, frame by frame: a context manager.

    Args:
        path: the output file; its suffix picks the codec (:data:`ENCODERS`: ``.mp4``/``.mov``/``.m4v``/``.mkv``
            H.264, ``.webm`` VP9).
        fps: frames per second (a float, e.g. 29.97, is kept as a fraction).
        width, height: the source frames' size; the file gets :func:`even_size` of it.
        realtime: encode fast enough for a live loop (:data:`REALTIME_OPTIONS`) rather than for size.

    Raises:
        InputError: an unsupported suffix, a size under 2x2 or a frame rate out of (0, 1000].
        RuntimeUnavailableError: PyAV is not installed, or its FFmpeg lacks the encoder (the message says
            which and what to install).
        OSError: the file cannot be created.
    """

    def __init__(self, path: str | Path, fps: float, width: int, height: int, *, realtime: bool = False) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in ENCODERS:
            raise InputError(f"video: expected a file ending in {', '.join(SUFFIXES)}, got {str(self.path)!r}")
        if not (isinstance(fps, int | float) and math.isfinite(fps) and 0 < fps <= 1000):
            raise InputError(f"fps: expected a frame rate in (0, 1000], got {fps!r}")
        if width < 2 or height < 2:
            raise InputError(f"video size: expected at least 2x2, got {width}x{height}")
        encoder, self.codec_name, options = ENCODERS[suffix]
        from arlens.image import as_bgr  # OpenCV: imported with the writer, not with the suffix table

        self._as_bgr = as_bgr
        try:
            import av
        except ImportError:
            raise RuntimeUnavailableError(
                "writing video needs PyAV (FFmpeg for Python): pip install av"
            ) from None
        try:
            av.codec.Codec(encoder, "w")
        except Exception:  # noqa: BLE001 - PyAV's UnknownCodecError and friends
            other = ".webm (VP9)" if suffix != ".webm" else ".mp4 (H.264)"
            raise RuntimeUnavailableError(
                f"this FFmpeg has no {encoder} encoder for {self.codec_name} (PyAV {av.__version__} built against "
                f"another FFmpeg): install PyAV's own wheel, which bundles it (pip install --force-reinstall "
                f"--only-binary=:all: av), or write {other} instead"
            ) from None
        self.source_size = (int(width), int(height))
        self.size = even_size(int(width), int(height))
        self.fps = fps
        self.frames = 0
        self._rate = frame_rate(fps)
        container_options = {"movflags": "+faststart"} if suffix in _FASTSTART else {}
        self._container: Any = av.open(str(self.path), mode="w", container_options=container_options)
        try:
            stream = self._container.add_stream(encoder, rate=self._rate)
            stream.width, stream.height = self.size
            stream.pix_fmt = "yuv420p"
            stream.options = dict(options, **(REALTIME_OPTIONS[encoder] if realtime else {}))
            self._stream = stream
        except BaseException:
            self._container.close()
            raise
        self._av = av

    def write(self, frame: np.ndarray) -> None:
        """Append one frame (uint8 BGR of the source size, or any form :mod:`arlens.image` accepts).

        Raises:
            InputError: a bad frame, or one of another size than the writer's source size.
        """
        if self._container is None:
            raise InputError("video: the writer is closed")
        image = self._as_bgr(frame, "frame")
        w, h = self.size
        if (image.shape[1], image.shape[0]) != self.source_size:
            sw, sh = self.source_size
            raise InputError(f"frame: expected {sw}x{sh} like the first, got {image.shape[1]}x{image.shape[0]}")
        crop = image[:h, :w]
        out = self._av.VideoFrame.from_ndarray(crop if crop.flags.c_contiguous else crop.copy(), format="bgr24")
        out.pts = self.frames
        out.time_base = 1 / self._rate
        for packet in self._stream.encode(out):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file; idempotent."""
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
