"""Several processes, one job: PyTorch's own distributed engine (``torchrun``), gloo on CPU, NCCL on CUDA.

``torchrun --nproc_per_node N -m agentrec train ...`` starts N copies of the command; each one calls
:func:`init_from_env`, which joins the process group that ``torchrun`` describes in the environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``). Without those variables
(a plain ``agentrec ...``) nothing is started and every helper here is the single-process identity, so
the same code runs both ways.

Work is split by contiguous blocks (:func:`shard_range`): rank ``r`` of ``w`` takes block ``r``, so
gathering the blocks in rank order gives back the single-process order exactly.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "DistContext",
    "agree",
    "all_gather_objects",
    "all_reduce_sum",
    "any_rank",
    "barrier",
    "context",
    "finish",
    "init_from_env",
    "main_first",
    "shard_range",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the job.

    Attributes:
        rank: this process's rank (0 writes checkpoints and prints).
        world_size: how many processes take part (1: no process group).
        local_rank: rank on this machine (picks the GPU).
        backend: ``"gloo"``, ``"nccl"`` or ``""`` for a single process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def is_main(self) -> bool:
        """True on rank 0."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def context() -> DistContext:
    """The current process's place: from the initialised process group, else a single process."""
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", rank))
        return DistContext(rank, world, local, str(dist.get_backend()))
    return DistContext()


def _env_int(env: dict[str, str] | os._Environ[str], name: str) -> int:
    raw = env.get(name, "")
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number (torchrun sets it), got {raw!r}") from exc


def init_from_env(device: str = "auto", timeout_s: float = 600.0) -> DistContext:
    """Join the process group ``torchrun`` set up in the environment; a no-op without it.

    Args:
        device: the device asked for (``"auto"``, ``"cpu"``, ``"cuda"``): CUDA means NCCL and one GPU per
            local rank, CPU means gloo.
        timeout_s: how long a collective may wait for the other ranks.

    Returns:
        The :class:`DistContext` (``world_size == 1`` when not started by ``torchrun``).

    Raises:
        ValueError: when ``torchrun``'s variables are malformed, or there are fewer GPUs than local ranks.
    """
    env = os.environ
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return DistContext()
    world, rank = _env_int(env, "WORLD_SIZE"), _env_int(env, "RANK")
    local = _env_int(env, "LOCAL_RANK") if "LOCAL_RANK" in env else rank
    if world <= 1:
        return DistContext()
    if dist.is_initialized():
        return context()
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        if local >= torch.cuda.device_count():
            raise ValueError(
                f"local rank {local} needs a GPU but this machine has {torch.cuda.device_count()}; start at most "
                f"that many processes per node (torchrun --nproc_per_node), or pass --device cpu for gloo on CPU"
            )
        torch.cuda.set_device(local)
    backend = "nccl" if use_cuda else "gloo"
    dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s))
    logger.info("rank %d of %d joined the %s process group", rank, world, backend)
    return DistContext(rank, world, local, backend)


def finish(wait: bool = True) -> None:
    """Leave the process group, after every rank got here unless ``wait`` is false (no-op for one process)."""
    if dist.is_available() and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every rank gets here (a no-op for a single process)."""
    if context().distributed:
        dist.barrier()


@contextlib.contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (e.g. to build and cache data), then the others run it (and find the cache)."""
    ctx = context()
    if ctx.distributed and not ctx.is_main:
        dist.barrier()
    try:
        yield
    finally:
        if ctx.distributed and ctx.is_main:
            dist.barrier()


def shard_range(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[start, end)`` of block ``rank`` when ``n`` things are cut into ``world_size`` contiguous blocks.

    The blocks cover ``0..n`` in rank order and differ in size by at most one.

    Raises:
        ValueError: on a negative ``n`` or a rank outside ``[0, world_size)``.
    """
    if n < 0 or world_size <= 0 or not 0 <= rank < world_size:
        raise ValueError(f"need n >= 0 and 0 <= rank < world_size, got n={n}, rank={rank}, world_size={world_size}")
    return rank * n // world_size, (rank + 1) * n // world_size


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(values: list[float]) -> list[float]:
    """Element-wise sum over the ranks of a few numbers (float64); the input itself for one process."""
    if not context().distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return [float(v) for v in t.cpu()]


def agree(flag: bool) -> bool:
    """Rank 0's ``flag`` on every rank (a decision all ranks must take together, such as stopping)."""
    if not context().distributed:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=_collective_device())
    dist.broadcast(t, src=0)
    return bool(t.item())


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any rank (e.g. one ran out of its time budget)."""
    if not context().distributed:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (picklable), in rank order, on every rank; ``[obj]`` for a single process."""
    ctx = context()
    if not ctx.distributed:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out
