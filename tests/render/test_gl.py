"""The headless OpenGL renderer: context errors, region projection, MSAA, depth occlusion, blending."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from arlens.errors import InputError, RuntimeUnavailableError
from arlens.render import gl
from arlens.render.gl import (
    GL_PACKAGES,
    GLRenderer,
    Lighting,
    SurfaceStyle,
    create_context,
    environment_from_frame,
    lens_keep_lut,
)
from arlens.tracking.camera import PerspectiveCamera


def _renderer(samples: int = 4) -> GLRenderer:
    try:
        return GLRenderer(samples=samples)
    except RuntimeUnavailableError as exc:
        pytest.skip(f"no OpenGL context on this machine: {exc}")


@pytest.fixture
def renderer():
    r = _renderer()
    yield r
    r.close()


def test_missing_egl_names_the_packages(monkeypatch):
    fake = types.ModuleType("moderngl")

    def fail(**kwargs):
        raise Exception("eglGetDisplay failed")  # what glcontext raises without libEGL / a driver

    fake.create_standalone_context = fail
    monkeypatch.setitem(sys.modules, "moderngl", fake)
    with pytest.raises(RuntimeUnavailableError) as info:
        create_context()
    for package in GL_PACKAGES:
        assert package in str(info.value)
    assert "eglGetDisplay failed" in str(info.value)


def test_missing_moderngl_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "moderngl", None)  # import moderngl -> ImportError
    with pytest.raises(RuntimeUnavailableError, match="moderngl"):
        GLRenderer()


def test_region_matrix_matches_camera_project():
    cam = PerspectiveCamera(640, 480)
    proj = cam.projection_matrix(2.0, 1000.0)
    region = (100, 50, 300, 210)
    m = GLRenderer.region_matrix((640, 480), region) @ proj
    pts = np.array([[3.0, 2.0, -50.0], [-4.0, 5.0, -70.0], [0.0, -1.0, -40.0]])
    clip = np.c_[pts, np.ones(3)] @ m.T
    ndc = clip[:, :2] / clip[:, 3:]
    w, h = region[2] - region[0], region[3] - region[1]
    px = np.stack([(ndc[:, 0] + 1) * w / 2 + region[0], (1 - ndc[:, 1]) * h / 2 + region[1]], axis=1)
    np.testing.assert_allclose(px, cam.project(pts), atol=1e-6)


def _quad(r, x0, y0, x1, y1, z):
    pos = np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], np.float32)
    normals = np.tile([[0, 0, 1]], (4, 1)).astype(np.float32)
    return r.mesh(pos, np.array([[0, 1, 2], [0, 2, 3]]), normals)


def test_opaque_draw_msaa_and_readback_orientation(renderer):
    cam = PerspectiveCamera(64, 64, fov_y_deg=60)
    proj = cam.projection_matrix(1, 100)
    # a quad covering the upper-left part of the image, with a slanted edge for anti-aliasing
    pos = np.array([[-10, 10, -10], [2.3, 10, -10], [-1.7, -1, -10], [-10, -1, -10]], np.float32)
    normals = np.tile([[0, 0, 1]], (4, 1)).astype(np.float32)
    mesh = renderer.mesh(pos, np.array([[0, 2, 1], [0, 3, 2]]), normals)  # counter-clockwise: front-facing
    renderer.begin(64, 64)
    renderer.draw_lit(mesh, SurfaceStyle((0.8, 0.1, 0.1, 1.0), 0.0, 0.5), proj, np.eye(4))
    rgba = renderer.read()
    assert rgba.shape == (64, 64, 4)
    # exact by construction: alpha of an opaque surface covering a pixel (or of nothing) is stored as the
    # 8-bit 255 (or 0) and read back as 1.0 (0.0) by any conforming GL, whatever rasteriser computed the colour
    assert rgba[5, 5, 3] == 1.0 and rgba[60, 60, 3] == 0.0  # drawn at the top-left, rows top-down
    assert rgba[5, 5, 0] > rgba[5, 5, 1]  # red
    edge = rgba[..., 3]
    assert ((edge > 0.05) & (edge < 0.95)).sum() > 10  # MSAA gives partial coverage on the slanted edge


def test_depth_occluder_hides_what_is_behind(renderer):
    proj = PerspectiveCamera(32, 32).projection_matrix(1, 100)
    near = _quad(renderer, -100, -100, 0, 100, -20)  # left half, nearer
    far = _quad(renderer, -100, -100, 100, 100, -40)  # everywhere, farther
    renderer.begin(32, 32)
    renderer.draw_depth(near, proj)
    renderer.draw_lit(far, SurfaceStyle((0.1, 0.8, 0.1, 1.0), 0.0, 0.5), proj, np.eye(4))
    a = renderer.read()[..., 3]
    # exact by construction (full or no coverage, as in the test above): only the depth test decides
    assert a[:, :14].max() == 0.0  # hidden behind the depth-only occluder, which draws no colour
    assert a[:, 18:].min() == 1.0


def _lens_pixel(renderer, transmittance, reflectance, behind=0.5, env=0.5):
    """Alpha and colour a lens quad filling a 16x16 region writes, in a grey room, over a grey scene."""
    proj = PerspectiveCamera(16, 16).projection_matrix(1, 100)
    quad = _quad(renderer, -100, -100, 100, 100, -30)
    grey = np.full((4, 8, 3), float(np.float32(env) ** 2.2), np.float32)
    renderer.set_lighting(Lighting.studio(environment=grey))
    renderer.set_behind((behind,) * 3)
    renderer.begin(16, 16)
    style = SurfaceStyle((1, 1, 1, 0), 0.0, 0.05, is_lens=True, transmittance=transmittance, reflectance=reflectance)
    renderer.draw_lit(quad, style, proj, np.eye(4))
    return renderer.read()[8, 8]


def test_clear_lens_adds_and_takes_almost_nothing(renderer):
    rgba = _lens_pixel(renderer, (1.0, 1.0, 1.0), (0.04, 0.04, 0.04))
    keep = 1.0 - rgba[3]
    # what the viewer sees of a 0.5 grey scene behind it in a 0.5 grey room: the same 0.5 (within a level)
    assert abs(0.5 * keep + rgba[0] - 0.5) < 1.5 / 255
    assert rgba[3] < 0.03  # 4% reflected: keeps 96% in linear light, 98% of the sRGB value


def test_dark_lens_filters_instead_of_hazing(renderer):
    rgba = _lens_pixel(renderer, (0.15, 0.15, 0.15), (0.04, 0.04, 0.04), behind=0.2, env=0.2)
    # alpha is what the filter takes away in sRGB terms: 1 - (0.15 * 0.96) ** (1 / 2.2)
    assert rgba[3] == pytest.approx(1.0 - (0.15 * 0.96) ** (1 / 2.2), abs=2 / 255)
    assert rgba[0] < 0.05  # and it adds only its faint reflection, no grey veil


def test_lens_keep_lut_filters_each_channel():
    t, f0 = (0.30, 0.20, 0.08), (0.04, 0.04, 0.04)  # a brown lens, R G B
    lut = lens_keep_lut(t, f0)
    assert lut.shape == (256, 1, 3) and lut.dtype == np.uint8
    assert lut[0, 0].tolist() == [255, 255, 255] and lut[255, 0].tolist() == [0, 0, 0]  # nothing, opaque
    lum = float(np.dot(np.array(t) * 0.96, [0.2126, 0.7152, 0.0722]))
    alpha = int(round(255 * (1 - lum ** (1 / 2.2))))  # what the lens pass writes
    keep_bgr = lut[alpha, 0].astype(float) / 255
    np.testing.assert_allclose(keep_bgr, (np.array(t[::-1]) * 0.96) ** (1 / 2.2), atol=0.012)
    neutral = lens_keep_lut((1, 1, 1), (0.04,) * 3)
    np.testing.assert_array_equal(neutral[:, 0, 0], 255 - np.arange(256))  # plain "over"


def test_environment_from_frame_is_small_linear_and_mirrored():
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[:, :640] = (0, 0, 255)  # the left half red (BGR)
    env = environment_from_frame(frame)
    assert env.shape == (18, 32, 3) and env.dtype == np.float32
    assert env[9, 28, 0] == pytest.approx(1.0) and env[9, 3, 0] == pytest.approx(0.0)  # red now on the right
    half = environment_from_frame(np.full((90, 160, 3), 128, np.uint8))
    assert half[0, 0, 1] == pytest.approx((128 / 255) ** 2.2, rel=1e-3)  # linear light


def test_framebuffer_grows_and_close_is_idempotent():
    r = _renderer(samples=0)
    r.begin(10, 10)
    r.begin(300, 70)
    assert r.read().shape == (70, 300, 4)
    r.close()
    r.close()
    assert r.ctx is None


def test_module_does_not_import_moderngl_at_import_time():
    assert "moderngl" not in vars(gl)


def test_two_renderers_in_one_process_do_not_mix_their_objects():
    """Each lens holds its own context; drawing with one after the other was created must not use the
    other's buffers (they share names such as buffer 1)."""
    proj = PerspectiveCamera(32, 32).projection_matrix(1, 100)
    a = _renderer(samples=0)
    left = _quad(a, -100, -100, 0, 100, -20)
    b = _renderer(samples=0)
    right = _quad(b, 0, -100, 100, 100, -20)
    try:
        for r, mesh in ((a, left), (b, right), (a, left)):
            with r.current():
                r.begin(32, 32)
                r.draw_lit(mesh, SurfaceStyle((0.5, 0.5, 0.5, 1.0), 0.0, 0.5), proj, np.eye(4))
                alpha = r.read()[..., 3]
            drawn_left = alpha[:, :14].mean()
            drawn_right = alpha[:, 18:].mean()
            assert (drawn_left, drawn_right) == ((1.0, 0.0) if mesh is left else (0.0, 1.0))
    finally:
        a.close()
        b.close()


def test_gamma_encoding_matches_the_power_law():
    """The shaders' sqrt-based gamma encoding (no pow) is the 1/2.2 power within 0.06 of a grey level: drawn on
    a ramp of inputs with the driver's own float arithmetic and compared with numpy's power."""
    try:
        ctx = create_context()
    except RuntimeUnavailableError as exc:
        pytest.skip(f"no OpenGL context on this machine: {exc}")
    import moderngl

    with ctx:
        n = 2048
        fs = "#version 330\nout vec4 c;\n" + gl._LIGHT_GLSL + """
        void main() {
            float x = (gl_FragCoord.x - 0.5) / 2047.0 * (gl_FragCoord.y < 1.0 ? 1.0 : 0.01);
            c = vec4(encode_gamma(vec3(x)), 1.0);
        }"""
        prog = ctx.program(vertex_shader="#version 330\nin vec2 p; void main() { gl_Position = vec4(p, 0.5, 1.0); }",
                           fragment_shader=fs)
        quad = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], "f4").tobytes())
        fbo = ctx.framebuffer(color_attachments=[ctx.texture((n, 2), 4, dtype="f4")])
        fbo.use()
        ctx.viewport = (0, 0, n, 2)
        ctx.vertex_array(prog, [(quad, "2f", "p")]).render(moderngl.TRIANGLE_STRIP)
        got = np.frombuffer(fbo.read(components=4, dtype="f4"), "f4").reshape(2, n, 4)[..., 0]
    ctx.release()
    x = np.arange(n) / (n - 1.0)
    for row, scale in ((0, 1.0), (1, 0.01)):  # all of [0, 1], and its darkest hundredth closer up
        exact = (x * scale) ** (1 / 2.2)
        # the fit is within 0.05 levels of the power in double precision; the driver's float32 adds ~1e-7
        assert np.abs(got[row] - exact).max() * 255 < 0.06
    assert got[0, 0] == 0.0 and got[0, -1] == pytest.approx(1.0, abs=1e-6)


def test_render_targets_follow_the_region_and_only_a_few_are_kept():
    r = _renderer(samples=4)
    try:
        for size in ((10, 10), (300, 70), (33, 65), (100, 100), (200, 40), (10, 10)):
            r.begin(*size)
            assert r.read_rgba8().shape == (size[1], size[0], 4)
        assert len(r._targets) <= gl._TARGETS_KEPT
        assert all(w % gl._TARGET_STEP == 0 and h % gl._TARGET_STEP == 0 for w, h in r._targets)
    finally:
        r.close()


def _slanted(renderer, size: int, scale: float) -> np.ndarray:
    """A quad with slanted edges drawn over a ``size`` square region at ``scale``: uint8 RGBA."""
    proj = PerspectiveCamera(size, size, fov_y_deg=60).projection_matrix(1, 100)
    pos = np.array([[-3.1, 4.2, -10], [2.3, 3.1, -10], [3.4, -2.9, -10], [-2.2, -3.7, -10]], np.float32)
    normals = np.tile([[0, 0, 1]], (4, 1)).astype(np.float32)
    mesh = renderer.mesh(pos, np.array([[0, 2, 1], [0, 3, 2]]), normals)
    renderer.begin(size, size, scale)
    renderer.draw_lit(mesh, SurfaceStyle((0.8, 0.6, 0.3, 1.0), 0.0, 0.5), proj, np.eye(4))
    return renderer.read_rgba8()


def test_drawing_coarser_and_blurring_less_looks_the_same(renderer):
    """A region drawn at 3/4 of its resolution comes back at its own size, and once given a soft camera's blur
    (less the softness the coarser drawing has already: apply_camera_look's scale) it matches the full-resolution
    drawing given that blur: what lets the eyewear lens draw coarser on soft frames."""
    from arlens.render.camera_match import CameraLook, apply_camera_look, render_scale

    look = CameraLook(1.2, 0.0)
    scale = render_scale(look)
    assert scale < 1.0
    full = apply_camera_look(_slanted(renderer, 96, 1.0), look).astype(int)
    coarse_raw = _slanted(renderer, 96, scale)
    assert coarse_raw.shape == (96, 96, 4)
    coarse = apply_camera_look(coarse_raw, look, scale).astype(int)
    diff = np.abs(full - coarse)
    inside = int((full[..., 3] == 255).sum())
    assert inside > 1000 and abs(int((coarse[..., 3] == 255).sum()) - inside) < 0.02 * inside  # as large
    # the edges: sampled on two pixel grids, so not equal pixel by pixel, but as soft and in the same place: a
    # few levels on average over the edge pixels, and nowhere more coverage than a tenth of a pixel's shift of
    # the edge would give (26 levels; measured with llvmpipe: mean 3.4, max 20)
    edge = (full[..., 3] > 0) & (full[..., 3] < 255)
    assert diff[edge].mean() < 5.0 and diff.max() < 26
    with pytest.raises(InputError, match="scale"):
        renderer.begin(16, 16, 0.0)
