"""The Ray engine: preview workers as Ray actors, on a local Ray or a cluster (``pip install 'arlens[ray]'``).

Each actor holds one :class:`~arlens.preview.stages.PreviewWorker` (its trackers' ONNX Runtime sessions
and its lenses live as long as the actor) and asks Ray for ``cpus_per_worker`` CPUs; it sizes ONNX
Runtime's and OpenCV's thread pools to the CPUs Ray actually assigned (ONNX Runtime ignores
``OMP_NUM_THREADS``, so this has to be set in its session options). Stage one's result, the photo's
context, stays in Ray's object store: stage-two calls take the reference and Ray hands the value to
whichever actor runs them, without a round trip through the driver.

Photos travel as bytes from the driver, so workers need no access to where the photos are. Outputs are
written by the actors themselves: on a cluster the output folder must be a shared file system mounted at
the same path on every node (see ``docs/preview-cluster.md``).

An actor killed under a call is replaced by a new one, which gets no call before it has answered a ping
(Ray's own restart-in-place would fail calls sent while it restarts); the call itself is not retried by
Ray (``max_task_retries=0``) but reported as :class:`~arlens.preview.engines.WorkerLost`, so the scheduler
applies the same retry-once rule as with the local engine. Each actor runs one call at a time, so a death
is charged to exactly the call that was running.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from arlens.errors import RuntimeUnavailableError
from arlens.preview.engines import Call, WorkerLost, WorkerSetupError, quiet_third_party_logs

logger = logging.getLogger(__name__)


#: Seconds a cluster's head gets to accept a TCP connection before joining it is given up: ``ray.init``
#: itself retries an unreachable head for minutes, logging a warning every few seconds.
CONNECT_TIMEOUT_S = 10.0
#: Ray's default ports: the GCS of ``ray start --head`` and the Ray Client server (``ray://``).
_GCS_PORT, _CLIENT_PORT = 6379, 10001


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise :class:`RuntimeUnavailableError` unless the head at ``address`` (``"host:port"``, ``"host"`` or
    ``"ray://host[:port]"``) accepts a TCP connection within ``timeout_s``; ``"auto"`` and ``"local"``
    (found by Ray on this node) are not checked.

    Written here (a socket connect) because Ray has no bounded "is this head up" call: ``ray.init`` on an
    unreachable address retried for over two minutes before this check.
    """
    import socket

    if address in ("auto", "local"):
        return
    client = address.startswith("ray://")
    rest = address[len("ray://"):] if client else address
    host, sep, port_text = rest.rpartition(":")
    if not sep or not port_text.isdigit() or host.endswith(":"):  # no port (or an IPv6 address without one)
        host, port = rest, _CLIENT_PORT if client else _GCS_PORT
    else:
        port = int(port_text)
    host = host.strip("[]")
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise RuntimeUnavailableError(
            f"cannot join the Ray cluster at {address!r}: nothing answers at {host}:{port} within "
            f"{timeout_s:g} s ({exc.strerror or exc}); is `ray start --head` running there?"
        ) from None


def import_ray() -> Any:
    """``ray``, or an error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise RuntimeUnavailableError(
            "the 'ray' engine needs Ray: pip install 'arlens[ray]' (or use --engine local)"
        ) from None
    return ray


class PreviewActor:
    """The actor class (wrapped by ``ray.remote`` when the engine starts, so importing this needs no Ray)."""

    def __init__(self, setup: Any) -> None:
        import ray

        quiet_third_party_logs()
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
        self.threads = max(1, int(round(cpus)))
        self.error: BaseException | None = None
        self.worker: Any = None
        try:
            from arlens.preview.stages import PreviewWorker

            self.worker = PreviewWorker(dataclasses.replace(setup, threads=self.threads))
        except Exception as exc:  # reported on every call, with the reason
            self.error = exc

    def _check(self) -> Any:
        if self.error is not None:
            raise WorkerSetupError(f"a preview actor could not start: {type(self.error).__name__}: {self.error}")
        return self.worker

    def prepare(self, task: Any) -> tuple[Any, Any]:
        return self._check().prepare(task)

    def render(self, items: Any, *contexts: Any) -> Any:
        return self._check().render(items, *contexts)

    def sheet(self, task: Any) -> Any:
        return self._check().sheet(task)

    def stats(self) -> dict[str, Any]:
        return self._check().stats()


class RayEngine:
    """``workers`` :class:`PreviewActor` actors, one call at a time each."""

    name = "ray"
    exact_attribution = True

    #: seconds to wait for the actors to be placed and built when the engine starts
    start_timeout = 300.0

    def __init__(self, workers: int | None = None, *, address: str | None = None, cpus_per_worker: int = 1) -> None:
        self._requested = workers
        self.address = address
        self.cpus_per_worker = int(cpus_per_worker)
        self._ray: Any = None
        self._owns_ray = False
        self._actors: list[Any] = []
        self._busy: dict[int, Call] = {}  # actor index -> the call it runs
        self._starting: set[int] = set()  # actors being replaced, not yet answering
        self._refs: dict[Any, tuple[int, Call | None]] = {}  # polled ref -> (actor index, call; None for a ping)
        self._actor_class: Any = None
        self._setup: Any = None
        self.replaced = 0

    @property
    def workers(self) -> int:
        return len(self._actors) if self._actors else int(self._requested or 1)

    def start(self, setup: Any) -> None:
        """Start or join Ray, create the actors and wait until each is built.

        Raises:
            RuntimeUnavailableError: Ray is not installed, or no actor can be placed.
            WorkerSetupError: the actors cannot set up (the reason is in the message).
        """
        import os

        ray = self._ray = import_ray()
        address = self.address or os.environ.get("RAY_ADDRESS")  # `ray job submit` sets RAY_ADDRESS for its driver
        if ray.is_initialized():
            pass  # the caller's Ray (a notebook, the tests' session fixture): used as it is, left running
        elif address:
            check_reachable(address)
            try:
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            except Exception as exc:  # unreachable head, version mismatch, refused token: one clear line
                raise RuntimeUnavailableError(f"cannot join the Ray cluster at {address!r}: {_first(exc)}") from None
            self._owns_ray = True
        else:
            cpus = (self._requested or os.cpu_count() or 1) * self.cpus_per_worker
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
            self._owns_ray = True
        if self._requested is None:
            total = int(ray.cluster_resources().get("CPU", 1))
            count = max(1, total // self.cpus_per_worker)
        else:
            count = int(self._requested)
        # a dead actor is replaced by a new one (not restarted in place): calls never reach a restarting actor
        self._setup = setup
        self._actor_class = ray.remote(num_cpus=self.cpus_per_worker, max_restarts=0, max_task_retries=0)(
            PreviewActor)
        actors = [self._actor_class.remote(setup) for _ in range(count)]
        # wait until the actors are placed and built: an actor the cluster has no room for would never answer
        pings = {a.stats.remote(): a for a in actors}
        ready, waiting = ray.wait(list(pings), num_returns=len(pings), timeout=self.start_timeout)
        for ref in waiting:
            ray.kill(pings[ref])
        if waiting:
            logger.warning("%d of %d Ray actors (%d CPU each) could not be placed within %.0f s; running on %d",
                           len(waiting), count, self.cpus_per_worker, self.start_timeout, len(ready))
        self._actors = [pings[r] for r in ready]
        for ref in ready:
            self._check_ping(ref)
        if not self._actors:
            self.close()
            raise RuntimeUnavailableError(f"no Ray actor with {self.cpus_per_worker} CPU(s) could be placed on the "
                                          f"cluster within {self.start_timeout:.0f} s")

    def _check_ping(self, ref: Any) -> None:
        ray = self._ray
        try:
            ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            self.close()
            raise cause if isinstance(cause, WorkerSetupError) else WorkerSetupError(str(exc)) from None
        except ray.exceptions.RayActorError as exc:
            self.close()
            raise WorkerSetupError(f"a preview actor died while starting: {_first(exc)}") from None

    def free(self) -> int:
        return len(self._actors) - len(self._busy) - len(self._starting)

    def submit(self, call: Call) -> None:
        index = next(i for i in range(len(self._actors)) if i not in self._busy and i not in self._starting)
        method = getattr(self._actors[index], call.method)
        if call.method == "prepare":
            summary, context = method.options(num_returns=2).remote(*call.args)
            call.handle = (summary, context)
            poll_ref = summary
        else:
            poll_ref = method.remote(*call.args)
            call.handle = poll_ref
        self._busy[index] = call
        self._refs[poll_ref] = (index, call)

    def _replace(self, index: int) -> None:
        """A new actor in place of the dead one; it takes calls once it answers a ping."""
        try:
            self._ray.kill(self._actors[index])
        except Exception:  # already gone
            logger.debug("ray.kill of a dead actor failed", exc_info=True)
        self.replaced += 1
        logger.warning("a preview actor died; starting a new one (replacement %d)", self.replaced)
        self._actors[index] = self._actor_class.remote(self._setup)
        self._starting.add(index)
        self._refs[self._actors[index].stats.remote()] = (index, None)

    def poll(self, timeout: float | None) -> list[tuple[Call, Any, BaseException | None]]:
        if not self._refs:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        if ready:  # collect everything else that is done too, without waiting
            more, _ = ray.wait([r for r in self._refs if r not in ready], num_returns=len(self._refs) - len(ready),
                               timeout=0)
            ready = ready + more
        out: list[tuple[Call, Any, BaseException | None]] = []
        for ref in ready:
            index, call = self._refs.pop(ref)
            if call is None:  # a replacement actor answered (or failed to start)
                self._starting.discard(index)
                self._check_ping(ref)
                continue
            self._busy.pop(index)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the method raised: hand back its own exception
                cause = getattr(exc, "cause", None)
                out.append((call, None, cause if isinstance(cause, BaseException) else exc))
                continue
            except (ray.exceptions.RayActorError, ray.exceptions.ObjectLostError, ray.exceptions.WorkerCrashedError,
                    ray.exceptions.OwnerDiedError) as exc:
                out.append((call, None, WorkerLost(f"a Ray actor died while running {call.method} ({_first(exc)})")))
                self._replace(index)
                continue
            if call.method == "prepare":
                result = (result, call.handle[1])
            out.append((call, result, None))
        return out

    def context_handle(self, result: Any) -> tuple[dict[str, Any], Any]:
        summary, context_ref = result  # the context stays in the object store; tasks take the reference
        return summary, context_ref

    def worker_stats(self) -> list[dict[str, Any]]:
        if not self._actors:
            return []
        refs = [a.stats.remote() for a in self._actors]
        out = []
        for ref in refs:
            try:
                out.append(self._ray.get(ref, timeout=60))
            except Exception as exc:  # a stats call must not fail the run
                logger.debug("actor stats failed: %s", exc)
        return out

    def close(self) -> None:
        """Kill the actors; shut Ray down if this engine started it (a Ray the caller started is left running)."""
        ray = self._ray
        if ray is None:
            return
        for a in self._actors:
            try:
                ray.kill(a)
            except Exception:  # already gone
                logger.debug("ray.kill failed", exc_info=True)
        self._actors = []
        self._busy.clear()
        self._starting.clear()
        self._refs.clear()
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    kill = close


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
