"""ONNX Runtime sessions for arlens' models: providers, threads, and the sha256 manifest check.

Every model file is checked against ``models/manifest.json`` before a session is built, so a
truncated download or a swapped file is refused with an error naming it instead of producing
silently wrong landmarks. GPU providers are used when asked for and installed (the ``[gpu]`` extra,
onnxruntime-gpu); when they are missing arlens falls back to the CPU with a logged warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arlens.errors import InputError, ModelError, RuntimeUnavailableError
from arlens.resources import models_dir

logger = logging.getLogger(__name__)

DEVICES = ("cpu", "cuda", "tensorrt")


@dataclass(frozen=True)
class RuntimeOptions:
    """How models are run.

    Attributes:
        device: "cpu" (default), "cuda" or "tensorrt"; ignored when ``providers`` is given.
        providers: explicit ONNX Runtime providers, e.g. ``["CUDAExecutionProvider", "CPUExecutionProvider"]``.
        intra_op_threads: threads per model run. The default, 1, is fastest for arlens' small models
            (measured on a 2-core machine: threads add synchronisation cost and contend with the app's
            own work); 0 lets ONNX Runtime use one per core.
        models_dir: folder with the ONNX files and manifest; default the one shipped with arlens.
    """

    device: str = "cpu"
    providers: tuple[str, ...] | None = None
    intra_op_threads: int = 1
    models_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InputError(f"RuntimeOptions.device: expected one of {DEVICES}, got {self.device!r}")
        if self.intra_op_threads < 0:
            raise InputError(f"RuntimeOptions.intra_op_threads: expected >= 0, got {self.intra_op_threads}")
        if self.providers is not None:
            object.__setattr__(self, "providers", tuple(self.providers))


def file_sha256(path: Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_manifest(folder: Path | None = None) -> dict[str, Any]:
    """Read ``manifest.json`` from ``folder`` (default: the packaged models)."""
    folder = folder or models_dir()
    path = folder / "manifest.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError(f"model manifest missing: expected {path}") from None
    except json.JSONDecodeError as e:
        raise ModelError(f"model manifest {path} is not valid JSON: {e}") from None


def model_path(name: str, folder: Path | None = None, manifest: dict[str, Any] | None = None) -> Path:
    """Path of model ``name`` after checking it exists and matches the manifest's sha256."""
    folder = folder or models_dir()
    manifest = manifest or load_manifest(folder)
    entry = manifest.get("models", {}).get(name)
    if entry is None:
        known = sorted(manifest.get("models", {}))
        raise ModelError(f"model {name!r} is not in {folder / 'manifest.json'}; known: {known}")
    path = folder / entry["file"]
    if not path.is_file():
        raise ModelError(f"model file missing: {path} (model {name!r})")
    digest = file_sha256(path)
    if digest != entry["sha256"]:
        raise ModelError(
            f"model file {path} does not match the manifest: expected sha256 {entry['sha256']}, got {digest}"
        )
    return path


def verify_models(folder: Path | None = None) -> dict[str, Path]:
    """Check every model in the manifest; returns name -> path, or raises ModelError on the first bad file."""
    folder = folder or models_dir()
    manifest = load_manifest(folder)
    return {name: model_path(name, folder, manifest) for name in manifest.get("models", {})}


ONNXRUNTIME_HINT = (
    "arlens runs its models with ONNX Runtime, which is not installed: pip install 'arlens[cpu]' "
    "(or 'arlens[gpu]' for NVIDIA CUDA; one of the two, never both)"
)


def onnxruntime() -> Any:
    """The ``onnxruntime`` module (from the ``cpu`` or the ``gpu`` extra).

    Raises:
        RuntimeUnavailableError: neither is installed (the message says what to install).
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise RuntimeUnavailableError(ONNXRUNTIME_HINT) from None
    return ort


def resolve_providers(options: RuntimeOptions) -> list[str]:
    """The providers to ask ONNX Runtime for, dropping (with a warning) those not installed."""
    ort = onnxruntime()

    wanted = list(options.providers) if options.providers else {
        "cpu": ["CPUExecutionProvider"],
        "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
        "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
    }[options.device]
    available = set(ort.get_available_providers())
    missing = [p for p in wanted if p not in available]
    if missing:
        logger.warning(
            "ONNX Runtime providers %s are not available (installed: %s), so the models run on what is; for "
            "CUDA install arlens[gpu] (onnxruntime-gpu) instead of arlens[cpu]",
            ", ".join(missing), ", ".join(sorted(available)),
        )
    chosen = [p for p in wanted if p in available]
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


def pruned_graph(path: Path, outputs: Sequence[str]) -> bytes:
    """The serialised part of the ONNX model at ``path`` that computes ``outputs`` (the rest left out).

    ONNX Runtime runs every node of a graph whatever outputs a run asks for, so a model's optional heads
    (the face mesh's refinement branches) are only skipped by building a session on the smaller graph.
    ``onnx.utils.Extractor`` keeps every node, initializer and value the outputs depend on, unchanged.

    Raises:
        ModelError: an output the model does not have.
    """
    import onnx
    from onnx.utils import Extractor

    model = onnx.load(str(path))
    known = [o.name for o in model.graph.output]
    if not set(outputs) <= set(known):
        raise ModelError(f"model {path} has no outputs {sorted(set(outputs) - set(known))}; it has {known}")
    inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    return Extractor(model).extract_model(inputs, list(outputs)).SerializeToString()


def channels_first(model: Any) -> Any:
    """The ONNX ``model`` (a ``ModelProto``, changed in place and returned) fed channels first: its leading
    NHWC -> NCHW ``Transpose`` taken out, the graph input (N, C, H, W) instead of (N, H, W, C).

    The converted MediaPipe models take NHWC, as TFLite does, and transpose it first thing; ONNX Runtime runs
    that transpose on every call (35-100 us a landmark model, measured with its profiler: up to 6% of the
    face mesh) though the caller can lay the tensor out planar for about what an interleaved one costs
    (:func:`arlens.image.rgb_planes`). Every other node is kept unchanged, so the outputs are the same.

    Raises:
        ModelError: the model's input is not read by exactly that transpose.
    """
    graph = model.graph
    source = graph.input[0]
    users = [node for node in graph.node if source.name in node.input]
    perm = [list(a.ints) for a in users[0].attribute if a.name == "perm"] if len(users) == 1 else []
    if len(users) != 1 or users[0].op_type != "Transpose" or perm != [[0, 3, 1, 2]] or \
            users[0].output[0] in {o.name for o in graph.output}:
        raise ModelError(f"model input {source.name!r} is not read by one NHWC -> NCHW Transpose alone")
    transpose = users[0]
    graph.node.remove(transpose)
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name == transpose.output[0]:
                node.input[k] = source.name
    dims = source.type.tensor_type.shape.dim
    shape = [(d.dim_param, d.dim_value) for d in dims]
    for d, (param, value) in zip(dims, (shape[0], shape[3], shape[1], shape[2]), strict=True):
        if param:
            d.dim_param = param
        else:
            d.dim_value = value
    return model


class Model:
    """One ONNX Runtime session over one verified model file, kept for the owner's lifetime.

    With ``outputs``, the session holds only the part of the graph those outputs need
    (:func:`pruned_graph`); they come out in that order. With ``nchw``, it is fed (N, C, H, W) tensors,
    without the model's own leading transpose (:func:`channels_first`).
    """

    def __init__(self, name: str, options: RuntimeOptions | None = None, outputs: Sequence[str] | None = None,
                 nchw: bool = False):
        ort = onnxruntime()

        self.options = options or RuntimeOptions()
        self.name = name
        self.path = model_path(name, self.options.models_dir)
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.options.intra_op_threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        self.providers = resolve_providers(self.options)
        source: str | bytes = str(self.path) if outputs is None else pruned_graph(self.path, outputs)
        if nchw:
            import onnx

            model = onnx.load(str(self.path)) if isinstance(source, str) else onnx.load_from_string(source)
            source = channels_first(model).SerializeToString()
        self.nchw = nchw
        self.session = ort.InferenceSession(source, sess_options=so, providers=self.providers)
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = tuple(self.session.get_inputs()[0].shape)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, x: np.ndarray, outputs: Sequence[str] | None = None) -> list[np.ndarray]:
        """Run the model on one input tensor; returns ``outputs`` (names), default all in the model's order."""
        if outputs is not None and not set(outputs) <= set(self.output_names):
            raise ModelError(f"model {self.name!r} ({self.path}) has no outputs "
                             f"{sorted(set(outputs) - set(self.output_names))}; it has {self.output_names}")
        return self.session.run(list(outputs) if outputs is not None else self.output_names, {self.input_name: x})

    def close(self) -> None:
        """Release the session."""
        self.session = None  # type: ignore[assignment]


def providers_in_use(models: Sequence[Model]) -> list[str]:
    """The first (active) provider of each model, for logs and benchmarks."""
    return [m.session.get_providers()[0] for m in models if m.session is not None]
