"""A headless OpenGL rasteriser (moderngl over EGL) for drawing 3D meshes over camera frames.

:class:`GLRenderer` owns one standalone OpenGL 3.3 context for its lifetime (a context manager;
``close()`` releases it), multisampled framebuffers the size of the regions drawn (a few sizes kept),
and the shader programs: a depth-only pass for occluders and a lit pass with glTF-style
metallic/roughness shading for opaque and alpha-blended parts. Drawing happens in a *region* of the
image (the bounding box of what is drawn), never the whole frame: :meth:`GLRenderer.region_matrix`
turns the camera's full-image projection into one for that region, and :meth:`GLRenderer.read_rgba8`
resolves the multisample buffer and returns premultiplied RGBA for compositing.

Several renderers may live in one process (one per lens): each has its own context, and every
drawing sequence must run inside ``with renderer.current():`` so that its context is the one
OpenGL talks to (buffer names of different contexts collide otherwise).

On a machine without a GPU this runs on Mesa's llvmpipe; the EGL libraries come from the Debian
packages named in :data:`GL_PACKAGES`. The context is not thread-safe: use one renderer per thread.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from arlens.errors import InputError, RuntimeUnavailableError

logger = logging.getLogger(__name__)

#: Debian packages that provide a headless EGL OpenGL context (Mesa's llvmpipe on a CPU).
GL_PACKAGES = ("libegl1", "libgl1-mesa-dri", "libegl-mesa0")

_HINT = (
    f"install the EGL runtime (apt-get install -y {' '.join(GL_PACKAGES)}) and the Python binding "
    "(pip install moderngl); on NVIDIA machines the driver's EGL library is used instead"
)


def create_context(backend: str = "egl") -> Any:
    """A standalone moderngl context (OpenGL 3.3 core) created headless through ``backend``.

    Raises:
        RuntimeUnavailableError: moderngl is not installed or no context can be made; the message
            names the Debian packages to install.
    """
    try:
        import moderngl
    except ImportError as exc:
        raise RuntimeUnavailableError(f"OpenGL rendering needs the moderngl package: {_HINT}") from exc
    try:
        ctx = moderngl.create_standalone_context(require=330, backend=backend)
    except Exception as exc:  # noqa: BLE001 - glcontext raises plain Exceptions for every EGL failure
        raise RuntimeUnavailableError(
            f"could not create a headless OpenGL 3.3 context through {backend!r} ({exc}); {_HINT}"
        ) from exc
    logger.debug("GL context: %s, %s", ctx.info.get("GL_RENDERER"), ctx.info.get("GL_VERSION"))
    return ctx


def gl_finish_releasing_gil(backend: str) -> Any:
    """``glFinish`` of the current context as a ctypes function (None where it cannot be looked up).

    moderngl holds Python's GIL in every call, so the wait for a CPU rasteriser (Mesa's llvmpipe draws
    when the pixels are read back: most of the eyewear lens's time) would stop every other Python thread
    of the process, such as a pipelined session's tracking (:meth:`arlens.TryOn.submit`). A function
    called through ctypes releases the GIL, so calling this before reading the pixels back lets the
    driver finish drawing while other threads run; the read-back then only copies.
    """
    if backend != "egl":
        return None
    import ctypes
    import ctypes.util

    try:
        egl = ctypes.CDLL(ctypes.util.find_library("EGL") or "libEGL.so.1")
        egl.eglGetProcAddress.restype = ctypes.c_void_p
        egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
        address = egl.eglGetProcAddress(b"glFinish")
    except (OSError, AttributeError):
        return None
    return ctypes.CFUNCTYPE(None)(address) if address else None


_DEPTH_VS = """
#version 330
uniform mat4 u_mvp;
in vec3 in_pos;
void main() { gl_Position = u_mvp * vec4(in_pos, 1.0); }
"""

_DEPTH_FS = """
#version 330
out vec4 f_color;
void main() { f_color = vec4(0.0); }
"""

# Metallic/roughness shading in linear light, camera space (the camera at the origin, looking down -z).
# The light is the scene's: a low-order (L1 spherical harmonic) irradiance, a key light with a direction,
# and an environment made from the frame itself (what metals and lenses reflect). Opaque parts write
# their colour (sRGB) with alpha 1. A lens is an optical filter, not a coloured sheet: it writes in alpha
# how much of the scene behind it it takes away (1 - transmittance, in the sRGB bytes the compositor
# multiplies; :func:`lens_keep_lut` turns it back into a per-channel factor for a tint) and in colour only
# what its Fresnel reflection adds on top of the filtered scene, so a clear lens leaves the eyes as they were
# but for a faint reflection, and a dark one filters them.
#
# Where the work is done: Mesa's llvmpipe runs the fragment shader for every sample of a multisampled
# framebuffer (about 3x the single-sample cost at 4x MSAA, measured), so on the frame what varies slowly over
# a surface is worked out per vertex and interpolated (its triangles are small against its curvature): the
# irradiance of the spherical harmonics with the key light's diffuse term, and the reflected environment and
# room (quadratics in the reflected direction, blurred). What can be sharper than the triangles stays per
# sample: the key light's specular highlight (GGX) and its lobe in the room's reflection (up to cos^32), the
# Fresnel factor, the texture and the sRGB encoding. A lens is a fan of long triangles from its centre: it is
# shaded per sample, in a program of its own.
_LIGHT_GLSL = """
uniform vec3 u_sh[4];         // irradiance / pi: E(n) = sh0 + sh1 n.x + sh2 n.y + sh3 n.z (linear RGB)
uniform vec3 u_key_dir;       // toward the key light (a unit vector: Lighting normalises it)
uniform vec3 u_key_color;     // key light (irradiance / pi at normal incidence)
uniform vec3 u_env[9];        // the environment (linear RGB, the mirrored frame) as quadratic SH in r
const float GAMMA = 2.2;

// c ** (1 / GAMMA) for c >= 0 without pow (exp2 and log2 are long polynomials on a CPU rasteriser; sqrt is one
// instruction): with s = c^1/2 and t = c^1/4, 0.023367 t + 1.35113 s - 0.771804 s t - 0.188256 c t + 0.585563 c,
// a minimax fit on [0, 1], exact at 0 and 1 and within 0.05 of a grey level of the power in between (a byte
// moves by at most 1, and rarely); above 1 (a bright reflection, clamped later) it stays within 3%
vec3 encode_gamma(vec3 c) {
    vec3 s = sqrt(max(c, 0.0));
    vec3 t = sqrt(s);
    return t * (0.023367 - s * (0.771804 + 0.188256 * s)) + s * (1.35113 + 0.585563 * s);
}

vec3 sh_irradiance(vec3 n) {
    return max(u_sh[0] + u_sh[1] * n.x + u_sh[2] * n.y + u_sh[3] * n.z, 0.0);
}

vec3 environment(vec3 r, float rough) {
    // the frame's colours (a quadratic fit over reflected directions: no texture to sample per pixel), blurrier
    // on rough surfaces, brighter toward the ceiling and darker toward the floor (rooms are lit from above)
    float k1 = 1.0 - 0.5 * rough, k2 = 1.0 - rough;
    vec3 e = u_env[0] + k1 * (u_env[1] * r.x + u_env[2] * r.y + u_env[3] * r.z)
        + k2 * (u_env[4] * (r.x * r.y) + u_env[5] * (r.y * r.z) + u_env[6] * (r.x * r.z)
                + u_env[7] * (r.x * r.x - r.y * r.y) + u_env[8] * (3.0 * r.z * r.z - 1.0));
    float sky = mix(0.45, 1.6, smoothstep(-0.35, 0.55, r.y));
    return max(e, 0.0) * mix(sky, 1.0, rough);
}

float ggx(float ndh, float a) {
    float a2 = a * a;
    float d = ndh * ndh * (a2 - 1.0) + 1.0;
    return a2 / (3.14159 * d * d);
}
"""

_VERTEX_GLSL = """
uniform mat4 u_mvp;
uniform mat4 u_modelview;
uniform mat3 u_normal_matrix;
uniform vec4 u_bend;  // temples: behind model z = x, x grows by y (x > 0) or z (x < 0) and y by w per unit of z
in vec3 in_pos;
in vec3 in_normal;
out vec3 v_pos;
out vec3 v_normal;

// places the vertex (temples bent) and returns its unit normal facing the camera; v the unit view vector
vec3 place(out vec3 v) {
    vec3 p = in_pos;
    float behind = max(p.z - u_bend.x, 0.0);
    p.x += behind * (p.x > 0.0 ? u_bend.y : -u_bend.z);
    p.y += behind * u_bend.w;
    gl_Position = u_mvp * vec4(p, 1.0);
    v_pos = (u_modelview * vec4(p, 1.0)).xyz;
    v_normal = u_normal_matrix * in_normal;
    vec3 n = normalize(v_normal);
    v = normalize(-v_pos);
    return dot(n, v) < 0.0 ? -n : n;
}
"""

# The frame (opaque parts): glTF's metallic/roughness model.
_LIT_VS = """
#version 330
uniform float u_roughness;
""" + _LIGHT_GLSL + _VERTEX_GLSL + """
in vec2 in_uv;
out vec2 v_uv;
out vec3 v_diffuse;  // irradiance: the SH and the key light's diffuse term
out vec3 v_env;      // half the reflected environment and room (the key light's lobe is added per pixel)
out float v_q5;      // Schlick's (1 - n.v)^5
void main() {
    vec3 v;
    vec3 n = place(v);
    v_uv = in_uv;
    float q = 1.0 - max(dot(n, v), 1e-3), q2 = q * q;
    v_q5 = q2 * q2 * q;
    float rough = clamp(u_roughness, 0.04, 1.0);
    v_diffuse = sh_irradiance(n) + u_key_color * max(dot(n, u_key_dir), 0.0);
    v_env = 0.5 * (environment(reflect(-v, n), rough) + sh_irradiance(reflect(-v, n)));
}
"""

_LIT_FS = """
#version 330
uniform vec4 u_base_color;
uniform float u_metallic;
uniform float u_roughness;
uniform bool u_has_texture;
uniform sampler2D u_texture;
""" + _LIGHT_GLSL + """
in vec3 v_pos;
in vec3 v_normal;
in vec2 v_uv;
in vec3 v_diffuse;
in vec3 v_env;
in float v_q5;
out vec4 f_color;

void main() {
    vec4 base = u_base_color;
    if (u_has_texture) {
        vec4 t = texture(u_texture, v_uv);
        base *= vec4(pow(t.rgb, vec3(GAMMA)), t.a);
    }
    vec3 n = normalize(v_normal);
    vec3 v = normalize(-v_pos);
    if (dot(n, v) < 0.0) n = -n;
    float ndv = max(dot(n, v), 1e-3);
    vec3 l = u_key_dir;
    float ndl = max(dot(n, l), 0.0);
    float ndh = max(dot(n, normalize(l + v)), 0.0);
    float rough = clamp(u_roughness, 0.04, 1.0);
    vec3 f0 = mix(vec3(0.04), base.rgb, u_metallic);
    vec3 fres = f0 + (max(vec3(1.0 - rough), f0) - f0) * v_q5;
    float c = max(dot(reflect(-v, n), l), 0.0), c2 = c * c, c4 = c2 * c2, c16 = c4 * c4 * c4 * c4;  // no pow
    vec3 key_lobe = u_key_color * mix(c16 * c16 + 0.3 * c4, c2, rough);  // the room's key light, reflected
    vec3 spec = f0 * ggx(ndh, rough * rough) * 0.25 / max(ndv, 0.1) * 3.14159 * u_key_color * ndl;
    vec3 color = base.rgb * (1.0 - u_metallic) * v_diffuse + spec + fres * (v_env + key_lobe);
    f_color = vec4(encode_gamma(clamp(color, 0.0, 1.0)), 1.0);
}
"""

# The lenses: optical filters (see above), shaded per sample as before (a lens is a few long triangles: its
# reflection interpolated from their corners was visibly off).
_LENS_VS = """
#version 330
""" + _VERTEX_GLSL + """
void main() {
    vec3 v;
    place(v);
}
"""

_LENS_FS = """
#version 330
""" + _LIGHT_GLSL + """
uniform vec3 u_transmit;      // linear transmittance per channel at normal incidence, before reflection
uniform vec3 u_f0;            // reflectance at normal incidence (coating)
uniform vec3 u_behind;        // mean sRGB colour (0..1) of the scene behind the lenses
uniform vec3 u_behind_lin;    // ... and in linear light
uniform vec3 u_transmit_srgb; // u_transmit ** (1 / 2.2), what it keeps of each channel in sRGB terms
uniform float u_keep;         // its luminous transmittance ** (1 / 2.2)
const vec3 LUM = vec3(0.2126, 0.7152, 0.0722);
in vec3 v_pos;
in vec3 v_normal;
out vec4 f_color;

void main() {
    vec3 n = normalize(v_normal);
    vec3 v = normalize(-v_pos);
    if (dot(n, v) < 0.0) n = -n;
    float ndv = max(dot(n, v), 1e-3);
    float ndl = max(dot(n, u_key_dir), 0.0);
    float ndh = max(dot(n, normalize(u_key_dir + v)), 0.0);
    float q = 1.0 - ndv, q2 = q * q;
    vec3 fres = u_f0 + (1.0 - u_f0) * (q2 * q2 * q);  // Schlick
    // the environment and the key light's mirror image (GGX at roughness 0.01: a point)
    vec3 refl = fres * (environment(reflect(-v, n), 0.05)
                        + ggx(ndh, 0.01) * 0.25 / max(ndv, 0.1) * 3.14159 * u_key_color * ndl);
    // (1 - F)^(1/2.2) to second order: the filter's share in sRGB terms, with the per-lens powers from uniforms
    vec3 loss = 1.0 - fres * (0.4545 + 0.124 * fres);
    vec3 added = encode_gamma(u_behind_lin * (u_transmit * (1.0 - fres)) + refl)
                 - u_behind * (u_transmit_srgb * loss);
    f_color = vec4(clamp(added, 0.0, 1.0), clamp(1.0 - u_keep * dot(loss, LUM), 0.0, 1.0));
}
"""


_LUM = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luminance weights of linear RGB


def _sh_basis(r: np.ndarray) -> np.ndarray:
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    return np.stack([np.ones_like(x), x, y, z, x * y, y * z, x * z, x * x - y * y, 3 * z * z - 1], axis=-1)


@functools.cache
def _sh_projector(h: int, w: int) -> np.ndarray:
    """(9, h*w) least-squares projector of an h x w environment onto :func:`_sh_basis` (made once per size)."""
    u = (np.arange(w) + 0.5) / w
    v = (np.arange(h) + 0.5) / h
    rx, ry = np.meshgrid(2 * u - 1, 1 - 2 * v)
    rz = np.sqrt(np.clip(1 - rx**2 - ry**2, 0.0, 1.0))
    basis = _sh_basis(np.stack([rx, ry, rz], axis=-1)).reshape(-1, 9)
    out = np.linalg.pinv(basis)
    out.setflags(write=False)
    return out


def environment_sh(environment: np.ndarray) -> np.ndarray:
    """float32 (9, 3): a quadratic spherical-harmonic least-squares fit of an environment image over the
    directions the shader maps to it (``u = (1 + r.x) / 2``, ``v = (1 - r.y) / 2``, the hemisphere toward the
    camera): the shader evaluates 9 terms per pixel instead of sampling a texture, which cost a third of the
    lit pass on a CPU rasteriser; the environment is a blurred 32x18 image anyway."""
    h, w = environment.shape[:2]
    return (_sh_projector(h, w) @ environment.reshape(-1, 3).astype(np.float64)).astype(np.float32)


def srgb_to_linear(values: np.ndarray | float) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light, with the same 2.2 power law the shaders use."""
    return np.power(np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0), 2.2)


#: float32 (256,): :func:`srgb_to_linear` of each byte over 255 (``astype(float32) / 255``), as
#: :func:`environment_from_frame` took it of every pixel.
_SRGB_BYTE_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.uint8).astype(np.float32) / 255.0).astype(np.float32)


def lens_keep_lut(transmit: tuple[float, float, float], f0: tuple[float, float, float]) -> np.ndarray:
    """uint8 (256, 1, 3) BGR look-up table from a lens pass's alpha to the factor the scene behind is kept by.

    A lens writes ``alpha = 1 - keep``, keep being its luminous transmittance in sRGB terms (what a grey
    filter multiplies the bytes by). A tint filters the channels differently: at the lens's own alpha, channel
    c must be kept by ``t_c ** (1 / 2.2)``. The table maps alpha to ``(1 - alpha) ** k_c`` with ``k_c`` chosen
    to do exactly that, which also leaves 0 (nothing drawn) at 1, 1 (opaque frame) at 0, and anti-aliased
    edges in between, so one alpha channel carries frames, lenses and their mixes.

    Args:
        transmit: the lens's linear transmittance per channel (R, G, B), before reflection.
        f0: its reflectance at normal incidence (R, G, B).
    """
    t = np.clip(np.asarray(transmit, dtype=np.float64) * (1.0 - np.asarray(f0, dtype=np.float64)), 1e-6, 1.0)
    lum = float(np.clip(t @ _LUM, 1e-6, 1.0))
    k = np.ones(3) if lum >= 1.0 - 1e-9 else np.log(t) / np.log(lum)
    keep = 1.0 - np.arange(256, dtype=np.float64)[:, None] / 255.0
    table = np.power(keep, k[None, :]) * 255.0  # RGB columns
    return np.rint(table[:, ::-1]).clip(0, 255).astype(np.uint8).reshape(256, 1, 3)



@dataclass(frozen=True)
class Lighting:
    """The light the lit pass shades with: linear RGB, camera space (x right, y up, z toward the viewer).

    Attributes:
        sh: float (4, 3) irradiance over pi as L1 spherical harmonics, ``E(n) = sh[0] + sh[1] n.x + sh[2] n.y
            + sh[3] n.z``: what a white matte surface facing ``n`` looks like.
        key_dir: float (3,) unit vector toward the key light.
        key_color: float (3,) the key light, as ``sh`` (irradiance over pi) on a surface facing it.
        environment: float32 (h, w, 3) linear RGB radiance that metals and lenses reflect: the frame,
            downsampled and mirrored (see :func:`environment_from_frame`), or None for a grey room.
    """

    sh: np.ndarray
    key_dir: np.ndarray
    key_color: np.ndarray
    environment: np.ndarray | None = None

    def __post_init__(self) -> None:
        sh = np.asarray(self.sh, dtype=np.float32).reshape(4, 3)
        key = np.asarray(self.key_dir, dtype=np.float64).reshape(3)
        norm = float(np.linalg.norm(key))
        if not np.isfinite(sh).all() or not np.isfinite(key).all() or norm < 1e-9:
            raise InputError(f"Lighting: expected finite SH and a non-zero key direction, got {sh!r}, {key!r}")
        object.__setattr__(self, "sh", sh)
        object.__setattr__(self, "key_dir", (key / norm).astype(np.float32))
        object.__setattr__(self, "key_color", np.asarray(self.key_color, dtype=np.float32).reshape(3))
        if self.environment is not None:
            env = np.ascontiguousarray(self.environment, dtype=np.float32)
            if env.ndim != 3 or env.shape[2] != 3 or min(env.shape[:2]) < 1:
                raise InputError(f"Lighting.environment: expected float (h, w, 3), got {env.shape}")
            object.__setattr__(self, "environment", env)

    @classmethod
    def studio(cls, gain: np.ndarray | float = 1.0, environment: np.ndarray | None = None) -> Lighting:
        """A soft studio light (sky above, key from the upper left) scaled per channel by ``gain``."""
        g = np.broadcast_to(np.asarray(gain, dtype=np.float64), (3,))
        sh = np.array([[0.30] * 3, [0.0] * 3, [0.10] * 3, [0.06] * 3]) * g
        return cls(sh, np.array([-0.45, 0.65, 0.6]), 0.85 * g, environment)

    def scaled(self, gain: np.ndarray | float) -> Lighting:
        """The same light with its colour multiplied by ``gain`` (a scalar or per channel, linear)."""
        g = np.broadcast_to(np.asarray(gain, dtype=np.float32), (3,))
        env = None if self.environment is None else self.environment * g
        return Lighting(self.sh * g, self.key_dir, self.key_color * g, env)


def environment_from_frame(frame: np.ndarray, size: tuple[int, int] = (32, 18)) -> np.ndarray:
    """float32 (h, w, 3) linear RGB environment for reflections: the frame itself, small and mirrored.

    What a lens or a metal rim in front of a face reflects is the room behind the camera, which the frame
    does not show; the frame's own colours, mirrored as if the room were symmetric, are the estimate made
    from the frame itself. Strided sampling before the area resize keeps it cheap at 720p.
    """
    h, w = frame.shape[:2]
    step = max(1, min(h // (4 * size[1]), w // (4 * size[0])))
    small = cv2.resize(frame[::step, ::step], size, interpolation=cv2.INTER_AREA)
    rgb = cv2.flip(small, 1)[..., ::-1]  # mirrored, RGB
    return _SRGB_BYTE_TO_LINEAR[rgb]  # a table of srgb_to_linear(byte / 255): the same values, one pass


@dataclass(frozen=True)
class SurfaceStyle:
    """What the lit pass needs of a material: linear RGBA colour, metallic, roughness, lens or not.

    For a lens, ``transmittance`` (linear, per channel, at normal incidence) is the filter and ``reflectance``
    the reflectance at normal incidence (0.04 for uncoated glass or plastic, less with an anti-reflective
    coating, much more for a mirror); ``base_color`` is not used.
    """

    base_color: tuple[float, float, float, float]
    metallic: float
    roughness: float
    is_lens: bool = False
    double_sided: bool = False
    transmittance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    reflectance: tuple[float, float, float] = (0.04, 0.04, 0.04)


class GLMesh:
    """Vertex and index buffers of one triangle mesh on the GPU, with an optional texture.

    Positions are float32 (N, 3), normals float32 (N, 3), uv float32 (N, 2) or None, faces int32 (T, 3).
    Built by :meth:`GLRenderer.mesh`; released with the renderer or by :meth:`release`.
    """

    def __init__(
        self,
        renderer: GLRenderer,
        positions: np.ndarray,
        faces: np.ndarray,
        normals: np.ndarray | None,
        uv: np.ndarray | None,
        texture: np.ndarray | None,
        dynamic: bool = False,
    ) -> None:
        ctx = renderer.ctx
        self._renderer = renderer
        pos = np.ascontiguousarray(positions, dtype=np.float32)
        self.vertex_count = len(pos)
        self.index_count = int(np.asarray(faces).size)
        self.pos_buffer = ctx.buffer(pos.tobytes(), dynamic=dynamic)
        self.index_buffer = ctx.buffer(np.ascontiguousarray(faces, dtype=np.int32).tobytes())
        self.depth_vao = ctx.vertex_array(
            renderer.depth_program,
            [(self.pos_buffer, "3f", "in_pos")],
            index_buffer=self.index_buffer,
            index_element_size=4,
        )
        self.lit_vao = None
        self.lens_vao = None
        self.texture = None
        self._buffers = [self.pos_buffer, self.index_buffer]
        if normals is not None:
            nb = ctx.buffer(np.ascontiguousarray(normals, dtype=np.float32).tobytes())
            uvs = np.zeros((len(pos), 2), np.float32) if uv is None else np.ascontiguousarray(uv, dtype=np.float32)
            ub = ctx.buffer(uvs.tobytes())
            self._buffers += [nb, ub]
            content = [(self.pos_buffer, "3f", "in_pos"), (nb, "3f", "in_normal"), (ub, "2f", "in_uv")]
            self.lit_vao = ctx.vertex_array(
                renderer.lit_program, content, index_buffer=self.index_buffer, index_element_size=4
            )
            self.lens_vao = ctx.vertex_array(  # the lens program reads no texture coordinates
                renderer.lens_program, content[:2], index_buffer=self.index_buffer, index_element_size=4
            )
        if texture is not None:
            tex = np.ascontiguousarray(texture, dtype=np.uint8)
            self.texture = ctx.texture((tex.shape[1], tex.shape[0]), 4, tex.tobytes())
            self.texture.build_mipmaps()

    def update_positions(self, positions: np.ndarray) -> None:
        """Replace the vertex positions (same count), for meshes that move every frame."""
        pos = np.ascontiguousarray(positions, dtype=np.float32)
        if len(pos) != self.vertex_count:
            raise InputError(f"GLMesh.update_positions: expected {self.vertex_count} vertices, got {len(pos)}")
        self.pos_buffer.write(pos.tobytes())

    def release(self) -> None:
        """Free the GPU buffers."""
        for obj in (self.depth_vao, self.lit_vao, self.lens_vao, self.texture, *self._buffers):
            if obj is not None:
                obj.release()
        self._buffers = []
        self.lit_vao = self.lens_vao = None
        self.texture = None


_NOTHING = object()
#: Render targets are sized in steps of this many pixels, and this many sizes are kept (see _ensure_size).
_TARGET_STEP = 32
_TARGETS_KEPT = 4


def _release_target(target: tuple[Any, Any]) -> None:
    for fbo in target:
        if fbo is not None:
            for att in (*fbo.color_attachments, fbo.depth_attachment):
                if att is not None:
                    att.release()
            fbo.release()


class _Uniforms:
    """Writes a program's uniforms by name, skipping those the driver's compiler optimised away (a uniform a
    shader variant does not read has no location, and moderngl raises KeyError for it) and those already holding
    the value (a program keeps its uniforms between draws: the parts and lenses of one face share most of them)."""

    def __init__(self, program: Any) -> None:
        self._program = program
        self._members: dict[str, Any] = {}
        self._values: dict[str, Any] = {}

    def _member(self, name: str) -> Any:
        if name not in self._members:
            self._members[name] = self._program.get(name, None)
        return self._members[name]

    def __setitem__(self, name: str, value: Any) -> None:
        member = self._member(name)
        if member is not None and self._values.get(name, _NOTHING) != value:
            member.value = value
            self._values[name] = value

    def write(self, name: str, data: bytes) -> None:
        member = self._member(name)
        if member is not None and self._values.get(name, _NOTHING) != data:
            member.write(data)
            self._values[name] = data


def _as_gl(m: np.ndarray) -> bytes:
    """A row-major numpy matrix as the column-major float32 bytes GLSL expects."""
    return np.ascontiguousarray(np.asarray(m, dtype=np.float32).T).tobytes()


class GLRenderer:
    """An offscreen OpenGL renderer with a multisampled framebuffer; a context manager.

    Args:
        samples: MSAA samples (clamped to what the driver supports; 0 or 1 disables MSAA).
        backend: moderngl/glcontext backend; 'egl' works headless.

    Raises:
        RuntimeUnavailableError: no OpenGL context can be created (the message names the packages).
    """

    def __init__(self, samples: int = 4, backend: str = "egl") -> None:
        self.ctx = create_context(backend)
        self.ctx.__enter__()  # current while the programs are built; callers use current() afterwards
        self.samples = int(max(0, min(samples, self.ctx.max_samples)))
        self.depth_program = self.ctx.program(vertex_shader=_DEPTH_VS, fragment_shader=_DEPTH_FS)
        self.lit_program = self.ctx.program(vertex_shader=_LIT_VS, fragment_shader=_LIT_FS)
        self.lens_program = self.ctx.program(vertex_shader=_LENS_VS, fragment_shader=_LENS_FS)
        self._lit_u = _Uniforms(self.lit_program)
        self._lens_u = _Uniforms(self.lens_program)
        self._depth_u = _Uniforms(self.depth_program)
        self._targets: dict[tuple[int, int], tuple[Any, Any]] = {}  # render targets by size (see _ensure_size)
        self._msaa = None
        self._resolve = None
        self._meshes: list[GLMesh] = []
        self._region = (0, 0)
        self._drawn = (0, 0)  # the region's size as drawn (smaller than _region when begin was given a scale)
        self._env_source: object = _NOTHING  # the environment last fitted and uploaded
        self._matrix_bytes: dict[str, tuple[bytes, Any]] = {}  # per slot: the last matrix and its GL bytes
        self._style_values: dict[int, tuple[SurfaceStyle, Any]] = {}  # per surface style: its uniforms
        self._finish = gl_finish_releasing_gil(backend)
        self._info = dict(self.ctx.info)  # read here, where the context is current
        self.set_lighting(Lighting.studio())
        self.set_temple_bend(1e9, 0.0, 0.0, 0.0)

    @property
    def info(self) -> dict[str, Any]:
        """The driver's description (GL_RENDERER, GL_VERSION, ...), read when the renderer was made (so any
        thread may ask, not only the one its context is current on)."""
        return dict(self._info)

    def current(self) -> Any:
        """A context manager making this renderer's context current (restoring the previous one after)."""
        if self.ctx is None:
            raise InputError("GLRenderer: used after close()")
        return self.ctx

    # --- lifetime -------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Release every GPU object and the context; idempotent."""
        if self.ctx is None:
            return
        self.ctx.__enter__()  # release this context's objects, not another's with the same names
        for mesh in self._meshes:
            mesh.release()
        self._meshes = []
        for target in self._targets.values():
            _release_target(target)
        self._targets = {}
        self._msaa = self._resolve = None
        self.ctx.release()
        self.ctx = None

    def __enter__(self) -> GLRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- resources ------------------------------------------------------------------------------------------
    def mesh(
        self,
        positions: np.ndarray,
        faces: np.ndarray,
        normals: np.ndarray | None = None,
        uv: np.ndarray | None = None,
        texture: np.ndarray | None = None,
        dynamic: bool = False,
    ) -> GLMesh:
        """Upload a mesh; with ``normals`` it can be drawn lit, without only as a depth occluder."""
        with self.current():
            m = GLMesh(self, positions, faces, normals, uv, texture, dynamic)
        self._meshes.append(m)
        return m

    def _ensure_size(self, width: int, height: int) -> None:
        """Draw into a framebuffer of the region's size rounded up to :data:`_TARGET_STEP` pixels (kept for the
        next regions of that size): clearing and resolving a multisampled buffer costs as much as its whole
        area on a CPU rasteriser, so a buffer sized for the largest region ever drawn made every smaller one
        pay for it; allocating one costs more than both, hence the few kept (regions of a video change size
        slowly)."""
        step = _TARGET_STEP
        size = (max(-(-width // step) * step, step), max(-(-height // step) * step, step))
        target = self._targets.pop(size, None)
        if target is None:
            if len(self._targets) >= _TARGETS_KEPT:  # the least recently used goes
                _release_target(self._targets.pop(next(iter(self._targets))))
            ctx = self.ctx
            s = self.samples if self.samples > 1 else 0
            msaa = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer(size, 4, samples=s)],
                depth_attachment=ctx.depth_renderbuffer(size, samples=s),
            )
            # single-sampled: read straight from the drawing buffer, no resolve
            resolve = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4)]) if s else None
            target = (msaa, resolve)
        self._targets[size] = target  # the most recently used last
        self._msaa, self._resolve = target

    def set_lighting(self, lighting: Lighting) -> None:
        """Use ``lighting`` for the lit pass from now on (its environment as :func:`environment_sh`).

        Makes this renderer's context current and leaves it so, as :meth:`begin` does (a ``with`` block
        here would restore the previous context on exit, and later uniform writes would go nowhere).
        """
        self.current().__enter__()
        sh_bytes = np.ascontiguousarray(lighting.sh, dtype=np.float32).tobytes()
        key_dir = tuple(float(c) for c in lighting.key_dir)
        key_color = tuple(float(c) for c in lighting.key_color)
        env = lighting.environment
        env_bytes = None
        if env is not self._env_source:  # faces of one frame share it: fit it once
            sh = environment_sh(env) if env is not None else np.r_[[[0.18] * 3], np.zeros((8, 3))]
            env_bytes = np.ascontiguousarray(sh, dtype=np.float32).tobytes()
            self._env_source = env
        for u in (self._lit_u, self._lens_u):
            u.write("u_sh", sh_bytes)
            u["u_key_dir"] = key_dir
            u["u_key_color"] = key_color
            if env_bytes is not None:
                u.write("u_env", env_bytes)

    def set_behind(self, srgb: tuple[float, float, float]) -> None:
        """The mean sRGB colour (0..1, RGB) of what lies behind the lenses, for their reflections' share."""
        rgb = np.clip(np.asarray(srgb, dtype=np.float64), 0.0, 1.0)
        self._lens_u["u_behind"] = tuple(float(c) for c in rgb)
        self._lens_u["u_behind_lin"] = tuple(float(c) for c in rgb**2.2)

    def set_temple_bend(self, z0: float, out_right: float, out_left: float, rise: float) -> None:
        """Bend temples at their hinges: model points behind ``z0`` move out by ``out_right`` (x > 0) or
        ``out_left`` (x < 0) and up by ``rise`` (negative: down) per unit of z behind it, so a frame's temples
        reach a head wider or narrower, and ears higher or lower, than the ones it was made for."""
        bend = (float(z0), float(out_right), float(out_left), float(rise))
        self._lit_u["u_bend"] = bend
        self._lens_u["u_bend"] = bend

    # --- drawing --------------------------------------------------------------------------------------------
    @staticmethod
    def region_matrix(image_size: tuple[int, int], region: tuple[int, int, int, int]) -> np.ndarray:
        """4x4 matrix that maps full-image clip space to the clip space of a pixel ``region``.

        ``region`` is (x0, y0, x1, y1) in image pixels (y down); left-multiply a full-image
        projection by it to draw only that region into a framebuffer of its size.
        """
        width, height = image_size
        x0, y0, x1, y1 = region
        w, h = x1 - x0, y1 - y0
        m = np.eye(4)
        m[0, 0] = width / w
        m[0, 3] = width / w - 1 - 2 * x0 / w
        m[1, 1] = height / h
        m[1, 3] = 1 - height / h + 2 * y0 / h
        return m

    def begin(self, width: int, height: int, scale: float = 1.0) -> None:
        """Start drawing a ``width`` x ``height`` region (making this context current): clear colour and depth.

        With ``scale`` < 1 the region is drawn with that many fewer pixels each way (the same projection: it
        maps the region onto whatever viewport) and :meth:`read_rgba8` upsamples it to ``width`` x ``height``.
        """
        if width <= 0 or height <= 0:
            raise InputError(f"GLRenderer.begin: expected a positive region, got {width}x{height}")
        if not 0.0 < scale <= 1.0:
            raise InputError(f"GLRenderer.begin: expected a scale in (0, 1], got {scale!r}")
        self.current().__enter__()  # a draw sequence starts here: make sure it talks to this context
        dw, dh = max(int(np.ceil(width * scale - 1e-6)), 1), max(int(np.ceil(height * scale - 1e-6)), 1)
        self._ensure_size(dw, dh)
        self._msaa.use()
        self.ctx.scissor = None  # the whole buffer: llvmpipe clears a scissored one more slowly
        self._msaa.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        self.ctx.viewport = (0, 0, dw, dh)
        self.ctx.scissor = (0, 0, dw, dh)
        self._region = (width, height)
        self._drawn = (dw, dh)

    def draw_depth(self, mesh: GLMesh, mvp: np.ndarray, cull: bool = False) -> None:
        """Draw ``mesh`` into the depth buffer only (an occluder); ``cull`` skips its back faces (closed,
        counter-clockwise meshes: only the nearest surface matters)."""
        import moderngl

        ctx = self.ctx
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.BLEND)
        if cull:
            ctx.enable(moderngl.CULL_FACE)
        else:
            ctx.disable(moderngl.CULL_FACE)
        ctx.depth_mask = True
        self._msaa.color_mask = (False, False, False, False)
        self._depth_u.write("u_mvp", _as_gl(mvp))
        mesh.depth_vao.render(moderngl.TRIANGLES)
        self._msaa.color_mask = (True, True, True, True)

    def draw_lit(self, mesh: GLMesh, style: SurfaceStyle, mvp: np.ndarray, modelview: np.ndarray) -> None:
        """Draw ``mesh`` shaded; lenses are alpha-blended without writing depth, frames opaque."""
        import moderngl

        if mesh.lit_vao is None:
            raise InputError("GLRenderer.draw_lit: the mesh was uploaded without normals")
        ctx = self.ctx
        u = self._lens_u if style.is_lens else self._lit_u
        ctx.enable(moderngl.DEPTH_TEST)
        if style.double_sided or style.is_lens:
            ctx.disable(moderngl.CULL_FACE)
        else:
            ctx.enable(moderngl.CULL_FACE)
        if style.is_lens:
            ctx.enable(moderngl.BLEND)
            ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA  # premultiplied: what it adds, what it keeps
            ctx.depth_mask = False
        else:
            ctx.disable(moderngl.BLEND)
            ctx.depth_mask = True
        u.write("u_mvp", self._gl_bytes(mvp, "mvp"))
        mv, normal = self._modelview_bytes(modelview)
        u.write("u_modelview", mv)
        u.write("u_normal_matrix", normal)
        for name, value in self._style_uniforms(style):
            u[name] = value
        if style.is_lens:
            mesh.lens_vao.render(moderngl.TRIANGLES)
        else:
            u["u_has_texture"] = mesh.texture is not None
            if mesh.texture is not None:
                mesh.texture.use(0)
                u["u_texture"] = 0
            mesh.lit_vao.render(moderngl.TRIANGLES)
        ctx.depth_mask = True
        ctx.disable(moderngl.BLEND)

    def _style_uniforms(self, style: SurfaceStyle) -> tuple[tuple[str, Any], ...]:
        """The uniforms a surface style sets (the same every draw of it: worked out on its first)."""
        found = self._style_values.get(id(style))
        if found is not None and found[0] is style:
            return found[1]
        if style.is_lens:
            t = np.clip(np.asarray(style.transmittance, dtype=np.float64), 0.0, 1.0)
            values: tuple[tuple[str, Any], ...] = (
                ("u_transmit", tuple(float(c) for c in t)),
                ("u_transmit_srgb", tuple(float(c) for c in t ** (1 / 2.2))),
                ("u_keep", float(max(float(t @ _LUM), 1e-6) ** (1 / 2.2))),
                ("u_f0", tuple(float(c) for c in style.reflectance)),
            )
        else:
            values = (
                ("u_base_color", tuple(float(c) for c in style.base_color)),
                ("u_metallic", float(style.metallic)),
                ("u_roughness", float(style.roughness)),
            )
        if len(self._style_values) >= 64:  # styles are few and long-lived; a stray stream of new ones stays bounded
            self._style_values.clear()
        self._style_values[id(style)] = (style, values)  # the style kept: its id is not reused while cached
        return values

    def _gl_bytes(self, m: np.ndarray, slot: str) -> bytes:
        """:func:`_as_gl` of ``m``, kept per ``slot`` while ``m`` holds the same values: a face's parts are drawn
        with one matrix."""
        key = np.asarray(m, dtype=np.float64).tobytes()
        last = self._matrix_bytes.get(slot)
        if last is None or last[0] != key:
            last = (key, _as_gl(m))
            self._matrix_bytes[slot] = last
        return last[1]

    def _modelview_bytes(self, modelview: np.ndarray) -> tuple[bytes, bytes]:
        """The modelview's and its normal matrix's GL bytes, worked out once for a face's parts."""
        mv = np.asarray(modelview, dtype=np.float64)
        key = mv.tobytes()
        last = self._matrix_bytes.get("modelview")
        if last is None or last[0] != key:
            last = (key, (_as_gl(mv), _as_gl(np.linalg.inv(mv[:3, :3]).T)))
            self._matrix_bytes["modelview"] = last
        return last[1]

    def read_rgba8(self, waiting: Callable[[], None] | None = None) -> np.ndarray:
        """Resolve MSAA and return the region as uint8 (H, W, 4) premultiplied RGBA, rows top-down.

        The byte form is what compositing needs (:func:`arlens.image.over_premultiplied`); converting
        the region to float first cost more than drawing a small one on a CPU. ``waiting`` is called just
        before the wait for the driver to draw.
        """
        w, h = self._drawn
        if waiting is not None:
            waiting()
        if self._finish is not None:
            self._finish()  # the drawing finishes with the GIL released (see gl_finish_releasing_gil)
        source = self._msaa
        if self._resolve is not None:
            self.ctx.copy_framebuffer(self._resolve, self._msaa)
            source = self._resolve
        raw = source.read(viewport=(0, 0, w, h), components=4, dtype="f1")
        rgba = cv2.flip(np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 4), 0)  # GL's rows run bottom-up
        if (w, h) != self._region:  # drawn coarser (begin's scale): premultiplied colour interpolates correctly
            rgba = cv2.resize(rgba, self._region, interpolation=cv2.INTER_LINEAR)
        return rgba

    def read(self) -> np.ndarray:
        """Resolve MSAA and return the region as float32 (H, W, 4) premultiplied RGBA in [0, 1], rows top-down."""
        return self.read_rgba8().astype(np.float32) * (1.0 / 255.0)
