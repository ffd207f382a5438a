"""arlens.video: browser-playable files through PyAV, the size written, and what a missing encoder says."""

from __future__ import annotations

import sys
from fractions import Fraction

import av
import numpy as np
import pytest

from arlens import video
from arlens.errors import InputError, RuntimeUnavailableError
from arlens.video import VideoWriter, even_size


def _frames(n: int, w: int, h: int) -> list[np.ndarray]:
    out = []
    for i in range(n):
        f = np.full((h, w, 3), 40, np.uint8)
        f[:, : (i + 1) * w // n] = (30, 40, 200)  # a red bar growing frame by frame
        out.append(f)
    return out


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "h264"), (".mov", "h264"), (".webm", "vp9")])
def test_writes_what_browsers_play(tmp_path, suffix, codec):
    path = tmp_path / f"clip{suffix}"
    with VideoWriter(path, 29.97, 161, 121) as writer:
        for f in _frames(8, 161, 121):
            writer.write(f)
    assert writer.size == (160, 120) and writer.source_size == (161, 121) and writer.frames == 8
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (160, 120)
        assert stream.average_rate == Fraction(30000, 1001)  # 29.97 kept as NTSC's fraction
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(decoded) == 8
    # the content survives: the red bar's width grows as written (lossy codecs: judged on a mean, not on bits)
    widths = [int((d[60, :, 2].astype(int) - d[60, :, 0] > 80).sum()) for d in decoded]
    assert widths == sorted(widths) and widths[0] < 40 and widths[-1] > 150


def test_frame_rates():
    assert video.frame_rate(29.97) == video.frame_rate(30000 / 1001) == Fraction(30000, 1001)
    assert video.frame_rate(23.976) == Fraction(24000, 1001) and video.frame_rate(59.94) == Fraction(60000, 1001)
    assert video.frame_rate(30.0) == 30 and video.frame_rate(12) == 12 and video.frame_rate(12.5) == Fraction(25, 2)


def test_even_size():
    assert even_size(327, 301) == (326, 300) and even_size(640, 480) == (640, 480) and even_size(3, 1) == (2, 2)


def test_bad_arguments_and_frames(tmp_path):
    with pytest.raises(InputError, match=r"expected a file ending in \.mp4"):
        VideoWriter(tmp_path / "a.avi", 30, 64, 64)
    with pytest.raises(InputError, match="fps"):
        VideoWriter(tmp_path / "a.mp4", 0, 64, 64)
    with pytest.raises(InputError, match="at least 2x2"):
        VideoWriter(tmp_path / "a.mp4", 30, 1, 64)
    with VideoWriter(tmp_path / "a.mp4", 30, 64, 48) as writer:
        with pytest.raises(InputError, match="expected 64x48 like the first, got 48x64"):
            writer.write(np.zeros((64, 48, 3), np.uint8))
        writer.write(np.zeros((48, 64), np.uint8))  # grey is converted, as everywhere in arlens
    with pytest.raises(InputError, match="closed"):
        writer.write(np.zeros((48, 64, 3), np.uint8))


def test_a_missing_encoder_says_which_and_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(video.ENCODERS, ".mp4", ("libnonexistent264", "H.264", {}))
    with pytest.raises(RuntimeUnavailableError, match=r"no libnonexistent264 encoder for H\.264.*pip install.* av.*"
                                                      r"or write \.webm \(VP9\) instead"):
        VideoWriter(tmp_path / "a.mp4", 30, 64, 64)
    monkeypatch.setitem(sys.modules, "av", None)  # PyAV not installed at all
    with pytest.raises(RuntimeUnavailableError, match="needs PyAV.*pip install av"):
        VideoWriter(tmp_path / "a.webm", 30, 64, 64)
