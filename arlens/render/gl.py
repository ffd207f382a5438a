"""A headless OpenGL rasteriser (moderngl over EGL) for drawing 3D meshes over camera frames.

:class:`GLRenderer` owns one standalone OpenGL 3.3 context for its lifetime (a context manager;
``close()`` releases it), a multisampled framebuffer that grows to the largest region asked for,
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

import logging
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

_LIT_VS = """
#version 330
uniform mat4 u_mvp;
uniform mat4 u_modelview;
uniform mat3 u_normal_matrix;
in vec3 in_pos;
in vec3 in_normal;
in vec2 in_uv;
out vec3 v_pos;
out vec3 v_normal;
out vec2 v_uv;
void main() {
    gl_Position = u_mvp * vec4(in_pos, 1.0);
    v_pos = (u_modelview * vec4(in_pos, 1.0)).xyz;
    v_normal = u_normal_matrix * in_normal;
    v_uv = in_uv;
}
"""

# Metallic/roughness shading, in camera space (the camera at the origin, looking down -z): a key
# light from the upper left, a dim fill from the right, a sky/ground hemisphere for ambient light,
# and a procedural studio environment for reflections, so metals (which have no diffuse colour)
# show bright streaks while acetates read as coloured plastic with a soft highlight.
_LIT_FS = """
#version 330
uniform vec4 u_base_color;
uniform float u_metallic;
uniform float u_roughness;
uniform bool u_has_texture;
uniform sampler2D u_texture;
uniform bool u_is_lens;
in vec3 v_pos;
in vec3 v_normal;
in vec2 v_uv;
out vec4 f_color;

const vec3 KEY_DIR = normalize(vec3(-0.45, 0.65, 0.6));
const vec3 FILL_DIR = normalize(vec3(0.7, 0.1, 0.7));

vec3 environment(vec3 r, float rough) {
    float up = r.y;
    vec3 sky = mix(vec3(0.7, 0.7, 0.7), vec3(1.3, 1.3, 1.3), smoothstep(-0.05, 0.7, up));
    vec3 ground = vec3(0.22, 0.2, 0.18);
    vec3 env = mix(ground, sky, smoothstep(-0.25, 0.1, up));
    float strip = smoothstep(0.9 - rough, 1.0, dot(r, KEY_DIR));
    return mix(env, vec3(0.45), rough * 0.6) + strip * 1.5 * (1.0 - rough);
}

float ggx(float ndh, float a) {
    float a2 = a * a;
    float d = ndh * ndh * (a2 - 1.0) + 1.0;
    return a2 / (3.14159 * d * d);
}

void main() {
    vec4 base = u_base_color;
    if (u_has_texture) {
        vec4 t = texture(u_texture, v_uv);
        base *= vec4(pow(t.rgb, vec3(2.2)), t.a);
    }
    vec3 n = normalize(v_normal);
    vec3 v = normalize(-v_pos);
    if (dot(n, v) < 0.0) n = -n;
    float rough = clamp(u_roughness, 0.04, 1.0);
    float a = rough * rough;
    vec3 f0 = mix(vec3(0.04), base.rgb, u_metallic);
    float ndv = max(dot(n, v), 1e-3);
    vec3 fres = f0 + (1.0 - f0) * pow(1.0 - ndv, 5.0);
    vec3 diffuse_color = base.rgb * (1.0 - u_metallic);
    vec3 color = vec3(0.0);
    vec3 dirs[2] = vec3[2](KEY_DIR, FILL_DIR);
    float power[2] = float[2](2.6, 0.8);
    for (int i = 0; i < 2; ++i) {
        vec3 l = dirs[i];
        float ndl = max(dot(n, l), 0.0);
        vec3 h = normalize(l + v);
        float spec = ggx(max(dot(n, h), 0.0), a) * 0.25 / max(ndv, 0.1);
        color += power[i] * ndl * (diffuse_color / 3.14159 + f0 * spec);
    }
    float hemi = 0.5 + 0.5 * n.y;
    color += diffuse_color * mix(0.22, 0.45, hemi);
    vec3 r = reflect(-v, n);
    color += fres * environment(r, rough) * (u_metallic > 0.5 ? 1.0 : 0.35);
    float alpha = 1.0;
    if (u_is_lens) {
        // a tinted sheet: its alpha is the tint strength; reflections make it more opaque at grazing angles
        float refl = dot(fres * environment(r, rough), vec3(0.333)) * 0.6;
        alpha = clamp(base.a + refl * (1.0 - base.a), 0.0, 1.0);
        color = (base.rgb * base.a * 0.8 + fres * environment(r, rough) * 0.6) / max(alpha, 1e-3);
    }
    color = color / (1.0 + 0.25 * color);  // a gentle shoulder so highlights do not clip hard
    f_color = vec4(pow(clamp(color, 0.0, 1.0), vec3(1.0 / 2.2)), alpha);
}
"""


@dataclass(frozen=True)
class SurfaceStyle:
    """What the lit pass needs of a material: linear RGBA colour, metallic, roughness, lens or not."""

    base_color: tuple[float, float, float, float]
    metallic: float
    roughness: float
    is_lens: bool = False
    double_sided: bool = False


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
        self.texture = None
        self._buffers = [self.pos_buffer, self.index_buffer]
        if normals is not None:
            nb = ctx.buffer(np.ascontiguousarray(normals, dtype=np.float32).tobytes())
            uvs = np.zeros((len(pos), 2), np.float32) if uv is None else np.ascontiguousarray(uv, dtype=np.float32)
            ub = ctx.buffer(uvs.tobytes())
            self._buffers += [nb, ub]
            prog = renderer.lit_program
            content = [(self.pos_buffer, "3f", "in_pos"), (nb, "3f", "in_normal"), (ub, "2f", "in_uv")]
            self.lit_vao = ctx.vertex_array(prog, content, index_buffer=self.index_buffer, index_element_size=4)
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
        for obj in (self.depth_vao, self.lit_vao, self.texture, *self._buffers):
            if obj is not None:
                obj.release()
        self._buffers = []
        self.lit_vao = None
        self.texture = None


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
        self._size = (0, 0)
        self._msaa = None
        self._resolve = None
        self._meshes: list[GLMesh] = []
        self._region = (0, 0)

    @property
    def info(self) -> dict[str, Any]:
        """The driver's description (GL_RENDERER, GL_VERSION, ...)."""
        return dict(self.ctx.info)

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
        for fbo in (self._msaa, self._resolve):
            if fbo is not None:
                for att in (*fbo.color_attachments, fbo.depth_attachment):
                    if att is not None:
                        att.release()
                fbo.release()
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
        if width <= self._size[0] and height <= self._size[1] and self._msaa is not None:
            return
        w = max(width, self._size[0], 64)
        h = max(height, self._size[1], 64)
        w, h = (w + 63) // 64 * 64, (h + 63) // 64 * 64
        for fbo in (self._msaa, self._resolve):
            if fbo is not None:
                for att in (*fbo.color_attachments, fbo.depth_attachment):
                    if att is not None:
                        att.release()
                fbo.release()
        ctx = self.ctx
        s = self.samples if self.samples > 1 else 0
        self._msaa = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer((w, h), 4, samples=s)],
            depth_attachment=ctx.depth_renderbuffer((w, h), samples=s),
        )
        self._resolve = ctx.framebuffer(color_attachments=[ctx.renderbuffer((w, h), 4)])
        self._size = (w, h)

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

    def begin(self, width: int, height: int) -> None:
        """Start drawing a ``width`` x ``height`` region (making this context current): clear colour and depth."""
        if width <= 0 or height <= 0:
            raise InputError(f"GLRenderer.begin: expected a positive region, got {width}x{height}")
        self.current().__enter__()  # a draw sequence starts here: make sure it talks to this context
        self._ensure_size(width, height)
        self._msaa.use()
        self.ctx.viewport = (0, 0, width, height)
        self.ctx.scissor = (0, 0, width, height)
        self._msaa.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        self._region = (width, height)

    def draw_depth(self, mesh: GLMesh, mvp: np.ndarray) -> None:
        """Draw ``mesh`` into the depth buffer only (an occluder)."""
        import moderngl

        ctx = self.ctx
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE | moderngl.BLEND)
        ctx.depth_mask = True
        self._msaa.color_mask = (False, False, False, False)
        self.depth_program["u_mvp"].write(_as_gl(mvp))
        mesh.depth_vao.render(moderngl.TRIANGLES)
        self._msaa.color_mask = (True, True, True, True)

    def draw_lit(self, mesh: GLMesh, style: SurfaceStyle, mvp: np.ndarray, modelview: np.ndarray) -> None:
        """Draw ``mesh`` shaded; lenses are alpha-blended without writing depth, frames opaque."""
        import moderngl

        if mesh.lit_vao is None:
            raise InputError("GLRenderer.draw_lit: the mesh was uploaded without normals")
        ctx = self.ctx
        prog = self.lit_program
        ctx.enable(moderngl.DEPTH_TEST)
        if style.double_sided or style.is_lens:
            ctx.disable(moderngl.CULL_FACE)
        else:
            ctx.enable(moderngl.CULL_FACE)
        if style.is_lens:
            ctx.enable(moderngl.BLEND)
            ctx.blend_func = (
                moderngl.SRC_ALPHA,
                moderngl.ONE_MINUS_SRC_ALPHA,
                moderngl.ONE,
                moderngl.ONE_MINUS_SRC_ALPHA,
            )
            ctx.depth_mask = False
        else:
            ctx.disable(moderngl.BLEND)
            ctx.depth_mask = True
        mv = np.asarray(modelview, dtype=np.float64)
        normal_matrix = np.linalg.inv(mv[:3, :3]).T
        prog["u_mvp"].write(_as_gl(mvp))
        prog["u_modelview"].write(_as_gl(mv))
        prog["u_normal_matrix"].write(_as_gl(normal_matrix))
        prog["u_base_color"].value = tuple(float(c) for c in style.base_color)
        prog["u_metallic"].value = float(style.metallic)
        prog["u_roughness"].value = float(style.roughness)
        prog["u_is_lens"].value = bool(style.is_lens)
        prog["u_has_texture"].value = mesh.texture is not None
        if mesh.texture is not None:
            mesh.texture.use(0)
            prog["u_texture"].value = 0
        mesh.lit_vao.render(moderngl.TRIANGLES)
        ctx.depth_mask = True
        ctx.disable(moderngl.BLEND)

    def read_rgba8(self) -> np.ndarray:
        """Resolve MSAA and return the region as uint8 (H, W, 4) premultiplied RGBA, rows top-down.

        The byte form is what compositing needs (:func:`arlens.image.over_premultiplied`); converting
        the region to float first cost more than drawing a small one on a CPU.
        """
        w, h = self._region
        self.ctx.copy_framebuffer(self._resolve, self._msaa)
        raw = self._resolve.read(viewport=(0, 0, w, h), components=4, dtype="f1")
        return cv2.flip(np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 4), 0)  # GL's rows run bottom-up

    def read(self) -> np.ndarray:
        """Resolve MSAA and return the region as float32 (H, W, 4) premultiplied RGBA in [0, 1], rows top-down."""
        return self.read_rgba8().astype(np.float32) * (1.0 / 255.0)
