"""Chunks of independent work run serially, on loky worker processes, or on a dask cluster.

One place for the scheduling that the cycles simulation and the evidence analysis share:
``run_chunks(fn, args, chunks, jobs, scheduler)`` yields ``fn(*args, chunk)`` for every
chunk, in completion order (callers key their records, so order never matters). Each loky
worker gets one BLAS thread (``inner_max_num_threads=1``) so HiGHS and BLAS do not compete.
"""

from __future__ import annotations

from allocator.errors import AllocatorError


def run_chunks(fn, args: tuple, chunks: list, jobs: int = 1, scheduler=None):
    """Yield ``fn(*args, chunk)`` for each chunk: in this process when ``jobs == 1`` and no
    ``scheduler``; on ``jobs`` loky processes; or on a dask.distributed ``scheduler`` (an
    address or a Client; a Client made here is closed here)."""
    if not chunks:
        return
    if scheduler is None and jobs == 1:
        for c in chunks:
            yield fn(*args, c)
        return
    from joblib import Parallel, delayed, parallel_config

    tasks = (delayed(fn)(*args, c) for c in chunks)
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError as e:
            raise AllocatorError("a dask scheduler was given but dask.distributed is not installed: "
                                 "pip install 'allocator[dask]'") from e
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            with parallel_config(backend="dask", wait_for_workers_timeout=60):
                yield from Parallel(n_jobs=-1, return_as="generator_unordered")(tasks)
        finally:
            if client is not scheduler:
                client.close()
        return
    with parallel_config(backend="loky", inner_max_num_threads=1):
        yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks)
