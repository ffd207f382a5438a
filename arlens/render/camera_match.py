"""Match a rendered overlay to the camera that took the frame: its blur and its noise.

A render is sharp and clean; a webcam frame is neither, and a sharp, noiseless object pasted on it reads as
pasted on. :func:`estimate_camera_look` measures both on a grey crop of the frame (around the face, where the
overlay goes) and :func:`apply_camera_look` gives them to the overlay before it is composited.

- **Noise**: Immerkær's fast noise estimate (Immerkær 1996, "Fast noise variance estimation"): the image
  convolved with a mask that cancels the first two derivatives keeps only noise and fine texture; its
  response to white Gaussian noise of sigma s has standard deviation 6 s. The median of the absolute
  response (through a histogram, no sort) instead of the mean keeps edges and texture from inflating it.
- **Blur**: the re-blur ratio at edges (Zhuo and Sim 2011, "Defocus map estimation from a single image"): a
  step edge blurred by sigma and re-blurred by sigma0 has gradient maxima in the ratio
  ``R = sqrt(sigma**2 + sigma0**2) / sigma``, so ``sigma = sigma0 / sqrt(R**2 - 1)``; the median over the
  strongest edges of the crop is the camera's blur (plus focus and motion blur at the face).

OpenCV has no estimator of either, so these are written here; each is a handful of OpenCV calls on a crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from arlens.errors import InputError
from arlens.image import opencv_writable
from arlens.stats import median, percentile

_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_REBLUR_SIGMA = 1.0
#: Blur of a sharp, well-focused frame at its own resolution (demosaicing, optics); only blur beyond it is
#: given to the render, whose anti-aliased edges are about this soft already.
SHARP_SIGMA_PX = 0.6


@dataclass(frozen=True)
class CameraLook:
    """How soft and how grainy the frame is.

    Attributes:
        blur_sigma_px: Gaussian sigma of the frame's blur in pixels (0 for a perfectly sharp image).
        noise_sigma: standard deviation of its noise in grey levels (0..255 scale).
    """

    blur_sigma_px: float = 0.0
    noise_sigma: float = 0.0

    def __post_init__(self) -> None:
        for name in ("blur_sigma_px", "noise_sigma"):
            v = float(getattr(self, name))
            if not (np.isfinite(v) and 0.0 <= v <= 64.0):
                raise InputError(f"CameraLook.{name}: expected 0..64, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)


#: Largest side (pixels) of the patch the look is measured on: its statistics need a few thousand pixels, and
#: at full resolution (noise and blur are per pixel) a larger patch only costs more.
PATCH_SIDE = 128
#: Smallest side (pixels) of that patch: a face far from the camera (its outer eye corners under 64 px apart) is
#: measured on its eye and what is around it. At 12 px (the least before) a face with pupils 25 px apart measured no
#: blur at all (too few edges inside the gradients' border), blurred or not; at 32 px, 0.9-1.5 px blurred by 1 px
#: and 1.9-2.2 px by 2 (the three test faces).
LEAST_PATCH_SIDE = 32


def eye_patch(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): a square around the subject's left eye (image right) with its brow and the cheek
    below, :data:`LEAST_PATCH_SIDE` to :data:`PATCH_SIDE` wide, clipped to the frame: where a face shows the
    camera's grain (skin) and blur (lashes, lids, brows), and where glasses go."""
    from arlens import landmarks as L

    lm = np.asarray(landmarks, dtype=np.float64)
    pts = lm[list(L.left_eye()), :2]
    iod = float(np.linalg.norm(lm[L.RIGHT_EYE_OUTER, :2] - lm[L.LEFT_EYE_OUTER, :2]))
    cx, cy = pts.mean(axis=0)
    half = int(min(max(0.25 * iod, LEAST_PATCH_SIDE / 2), PATCH_SIDE / 2))
    cy -= 0.05 * iod  # a little up: the brow in, less of the cheek
    h, w = shape[:2]
    x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    return x0, y0, int(min(cx + half, w)), int(min(cy + half, h))


def _median_u8(values: np.ndarray) -> float:
    hist = cv2.calcHist([values], [0], None, [256], [0, 256]).ravel()
    cdf = np.cumsum(hist)
    return float(np.searchsorted(cdf, 0.5 * cdf[-1]))


def _immerkaer(gray: np.ndarray) -> float:
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    response = cv2.filter2D(gray, cv2.CV_16S, _IMMERKAER)[1:-1, 1:-1]
    magnitude = cv2.convertScaleAbs(response, alpha=0.5)  # |response| / 2 fits a byte for any real image
    # the median of |N(0, 6s)| is 0.6745 * 6s; the factor 2 undoes the halving above
    return 2.0 * _median_u8(magnitude) / (0.6745 * 6.0)


def estimate_noise(gray: np.ndarray) -> float:
    """Visible noise standard deviation (grey levels) of a uint8 grey image, by Immerkær's mask and a median.

    Measured at full and half resolution (2x2 averages): white noise halves, so ``2 * sigma_half`` equals
    ``sigma``; a pattern finer than a pixel pair (a GIF's palette dither, JPEG ringing) nearly vanishes,
    and the smaller of the two is the grain the eye sees, which is what an overlay should get.
    """
    full = _immerkaer(gray)
    if full == 0.0 or min(gray.shape[:2]) < 8:
        return full
    half = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return min(full, 2.0 * _immerkaer(half))


def estimate_blur(gray: np.ndarray, noise_sigma: float = 0.0, fraction: float = 0.05) -> float:
    """Gaussian blur sigma (pixels) of a uint8 grey image from its strongest edges, by the re-blur ratio.

    The image is first smoothed by ``sigma1`` (which keeps noise out of the gradients) and then by
    ``sigma2``; at a step edge blurred by sigma the gradient maxima are in the ratio
    ``R = sqrt(sigma**2 + sigma2**2) / sqrt(sigma**2 + sigma1**2)``. Returns 0 when the crop has no edges
    well above its noise to measure.
    """
    if min(gray.shape[:2]) < 12:
        return 0.0
    s1, s2 = _REBLUR_SIGMA, 2.0 * _REBLUR_SIGMA
    i1 = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), s1)
    i2 = cv2.GaussianBlur(i1, (0, 0), float(np.sqrt(s2**2 - s1**2)))

    def magnitude(a: np.ndarray) -> np.ndarray:
        gx = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3)
        return cv2.magnitude(gx, gy)[4:-4, 4:-4]

    g1, g2 = magnitude(i1), magnitude(i2)
    floor = 8.0 * (1.5 * noise_sigma + 2.0)  # Sobel's gain is 8: edges clearly above the smoothed noise
    threshold = max(percentile(g1[::2, ::2].reshape(-1), 100.0 * (1.0 - fraction)), floor)
    edges = (g1 >= threshold) & (g2 > 1e-3)
    if int(np.count_nonzero(edges)) < 12:
        return 0.0
    r2 = median(g1[edges] / g2[edges]) ** 2
    if r2 <= 1.0 + 1e-6:
        return 16.0
    var = (s2**2 - r2 * s1**2) / (r2 - 1.0)
    return float(np.clip(np.sqrt(max(var, 0.0)), 0.0, 16.0))


def estimate_camera_look(gray: np.ndarray) -> CameraLook:
    """Blur and noise of a uint8 grey crop (H, W) of the frame, ideally around the face.

    Raises:
        InputError: not a 2D uint8 image.
    """
    if not isinstance(gray, np.ndarray) or gray.dtype != np.uint8 or gray.ndim != 2:
        got = f"{gray.dtype} {gray.shape}" if isinstance(gray, np.ndarray) else type(gray).__name__
        raise InputError(f"estimate_camera_look: expected a uint8 grey image (H, W), got {got}")
    noise = estimate_noise(gray)
    return CameraLook(estimate_blur(gray, noise), min(noise, 64.0))


class NoiseTile:
    """A fixed tile of Gaussian grain, read at a different offset for each frame: grain for an overlay
    without drawing random numbers for every pixel of every frame.

    Args:
        size: the tile's side in pixels (regions larger than it are tiled).
        seed: the random generator's seed (the tile is the same in every run).
    """

    def __init__(self, size: int = 256, seed: int = 19) -> None:
        rng = np.random.default_rng(seed)
        # luminance grain (the same on the three channels): what is left of a sensor's noise after the
        # camera's demosaicing and chroma denoising, and what the eye reads as grain
        unit = np.repeat(rng.standard_normal((size, size, 1)).astype(np.float32), 3, axis=2)
        self._unit = unit
        self._size = size
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _tiles(self, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        key = int(round(sigma * 4))  # quarter grey levels: a handful of cached tiles at most
        if key not in self._cache:
            if len(self._cache) > 16:
                self._cache.clear()
            noise = self._unit * (key / 4.0)
            reps = 2  # room for any offset plus a region up to one tile wide
            big = np.tile(noise, (reps, reps, 1))
            self._cache[key] = (
                np.clip(np.rint(big), 0, 255).astype(np.uint8),
                np.clip(np.rint(-big), 0, 255).astype(np.uint8),
            )
        return self._cache[key]

    def add(self, dst: np.ndarray, mask: np.ndarray, sigma: float, offset: tuple[int, int]) -> None:
        """Add grain of ``sigma`` grey levels to uint8 BGR ``dst`` where uint8 ``mask`` is set, in place."""
        h, w = dst.shape[:2]
        if sigma < 0.5 or h == 0 or w == 0:
            return
        pos, neg = self._tiles(sigma)
        n = self._size
        for y in range(0, h, n):
            for x in range(0, w, n):
                hh, ww = min(n, h - y), min(n, w - x)
                oy, ox = (offset[0] + y) % n, (offset[1] + x) % n
                d = dst[y : y + hh, x : x + ww]
                m = mask[y : y + hh, x : x + ww]
                t = d if opencv_writable(d) else d.copy()  # a mirrored or strided frame: via a copy (issue #24)
                cv2.add(t, pos[oy : oy + hh, ox : ox + ww], dst=t, mask=m)
                cv2.subtract(t, neg[oy : oy + hh, ox : ox + ww], dst=t, mask=m)
                if t is not d:
                    d[...] = t


#: The coarsest resolution :func:`render_scale` draws at (a fraction of the frame's), and its steps.
SMALLEST_SCALE = 0.5
SCALE_STEP = 0.125
#: The least blur (Gaussian sigma, in pixels of the coarser drawing) left to :func:`apply_camera_look` after
#: drawing coarser, so the upsampled drawing's own pixels do not show. Looked at on the demo frames (4x zoomed
#: crops of thin metal rims): down to :data:`DENSE_SCALE` (4x MSAA there is 2.25 samples or more a frame pixel) a
#: third of a coarse pixel is enough; below it (down to one sample a frame pixel) thin rims came out uneven and
#: beaded with 0.4 of a coarse pixel left (a half-resolution drawing on a frame blurred by 1.1 px) and looked as
#: drawn at full resolution with a whole one left (on a frame blurred by 2.2 px), hence :data:`SPARSE_BLUR_LEFT`.
LEAST_BLUR_LEFT = 0.33
DENSE_SCALE = 0.75
SPARSE_BLUR_LEFT = 1.0


def scale_softness(scale: float) -> float:
    """Gaussian sigma (frame pixels) that drawing at ``scale`` of the frame's resolution adds to a render's edges.

    A multisampled pixel averages its samples over a box one pixel wide (sigma ``0.29``); drawn at ``scale`` the
    box is ``1 / scale`` frame pixels wide (upsampled bilinearly: interpolated, not blurred further).
    """
    if scale >= 1.0:
        return 0.0
    return float(np.sqrt(max((0.289 / scale) ** 2 - 0.289**2, 0.0)))


def render_scale(look: CameraLook) -> float:
    """The coarsest resolution (a fraction of the frame's: 1 down to :data:`SMALLEST_SCALE` in steps of
    :data:`SCALE_STEP`) an overlay can be drawn at for a frame this blurred and look as it would drawn at full
    resolution and blurred by :func:`apply_camera_look`: the blur it is to get beyond :data:`SHARP_SIGMA_PX`
    covers what drawing coarser adds (:func:`scale_softness`) with at least :data:`LEAST_BLUR_LEFT` of a coarse
    pixel to spare (:data:`SPARSE_BLUR_LEFT` below :data:`DENSE_SCALE`). A webcam's 720p frame resolves less
    than 720 lines, and what a CPU rasteriser spends grows with the pixels it draws (0.56 of them at the scale
    0.75 a frame blurred by 0.8 px or more gets, a quarter at the half a frame blurred by 2.2 px gets)."""
    extra2 = look.blur_sigma_px**2 - SHARP_SIGMA_PX**2
    scale = 1.0
    while scale - SCALE_STEP >= SMALLEST_SCALE - 1e-9:
        k = scale - SCALE_STEP
        left = LEAST_BLUR_LEFT if k >= DENSE_SCALE - 1e-9 else SPARSE_BLUR_LEFT
        if extra2 - scale_softness(k) ** 2 < (left / k) ** 2:
            break
        scale = k
    return scale


#: Below this added blur (sigma, frame pixels) an overlay is left as drawn: within what its anti-aliased edge has.
LEAST_ADDED_BLUR = 0.3


def added_blur(look: CameraLook, scale: float = 1.0) -> float:
    """Gaussian sigma (frame pixels) an overlay drawn at ``scale`` of the frame's resolution is to be blurred by to
    look as soft as the frame: the camera's blur beyond :data:`SHARP_SIGMA_PX` and what drawing at ``scale`` gave it
    (:func:`scale_softness`); 0 below :data:`LEAST_ADDED_BLUR`."""
    extra2 = look.blur_sigma_px**2 - SHARP_SIGMA_PX**2 - scale_softness(scale) ** 2
    extra = float(np.sqrt(max(extra2, 0.0)))
    return extra if extra >= LEAST_ADDED_BLUR else 0.0


def blur_reach(sigma: float) -> int:
    """Pixels a Gaussian blur of ``sigma`` carries an overlay out by (3 sigma: under 1% of its edge's level beyond;
    0 for no blur): the room a box needs around what is blurred in it."""
    return math.ceil(3.0 * sigma) if sigma > 0.0 else 0


#: The least size (Gaussian sigma, pixels) :func:`glint_gain` takes a glint to have: one smaller is sampled at a
#: single pixel, whose blur already spreads it as a glint of about this size would be.
LEAST_GLINT_SIGMA = 0.5


def glint_gain(glint_sigma: float, blur: float, spacing: float = math.inf) -> float:
    """How much a glint's change is scaled before a camera ``blur`` (Gaussian sigma, pixels) so that it keeps its
    peak: a flake's glint is far brighter than white and the sensor clips it, so a soft camera shows it larger, not
    dimmer (blurred as it is, the shimmer of a 720p webcam's lips faded into satin, looked at). A Gaussian glint of
    sigma ``s`` keeps its peak when scaled by ``(s**2 + blur**2) / s**2`` (``s`` at least ``LEAST_GLINT_SIGMA``).

    Glints ``spacing`` px apart (on average) merge under a blur wider than half of that into a sheen, which keeps
    their light, not each one's peak (that summed to white blotches: a webcam face's shimmer, glints 2 px apart,
    looked at): the gain is at most ``(spacing / (2 blur))**2``, and at least 1."""
    s2 = max(float(glint_sigma), LEAST_GLINT_SIGMA) ** 2
    b2 = float(blur) ** 2
    if b2 == 0.0:
        return 1.0
    return max(1.0, min((s2 + b2) / s2, float(spacing) ** 2 / (4.0 * b2)))


def apply_camera_look(rgba: np.ndarray, look: CameraLook, scale: float = 1.0) -> np.ndarray:
    """Blur a premultiplied uint8 RGBA overlay (H, W, 4) as the camera blurred the frame; returns it
    (a new array when blurred). Colour and coverage are blurred together, which is what a lens does to an
    object in front of the scene; only the blur beyond :data:`SHARP_SIGMA_PX` is added, less what drawing it at
    ``scale`` of the frame's resolution (and upsampling) gave it already (:func:`scale_softness`)."""
    extra = added_blur(look, scale)
    if not extra:
        return rgba
    h, w = rgba.shape[:2]
    if not rgba.flags.c_contiguous or rgba.ndim != 3 or rgba.shape[2] != 4:
        return cv2.GaussianBlur(rgba, (0, 0), extra)
    # blurred only around what is drawn (the glasses' projected box holds much that is not: temples behind the
    # head, corners), two kernel radii more: the rest stays 0, and inside the crop the mirrored border reads only
    # those zeros, so every pixel is what blurring the whole drawing gives (OpenCV's uint8 kernel is 6 sigma wide)
    bx, by, bw, bh = cv2.boundingRect(rgba.reshape(h, w * 4))
    if not (bw and bh):
        return np.zeros_like(rgba)
    margin = 2 * ((math.ceil(extra * 6 + 1) | 1) // 2) + 1  # at least OpenCV's radius (it rounds), twice, and one
    x0, y0 = max(bx // 4 - margin, 0), max(by - margin, 0)
    x1, y1 = min(-(-(bx + bw) // 4) + margin, w), min(by + bh + margin, h)
    if (x1 - x0) * (y1 - y0) > 0.8 * h * w:
        return cv2.GaussianBlur(rgba, (0, 0), extra)
    out = np.zeros_like(rgba)
    out[y0:y1, x0:x1] = cv2.GaussianBlur(rgba[y0:y1, x0:x1], (0, 0), extra)
    return out
