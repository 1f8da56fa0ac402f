"""Cutting a heavy measurement into parts that run as tasks of their own (on the Dask engine).

The local engine measures a frame in one call.  A project that spreads work (the Dask
engine's, see :mod:`gis.distributed`) cuts the frame into consecutive parts of about equal
expected work and runs each as a task; the outputs, concatenated in order, are the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import pandas as pd


@runtime_checkable
class SpreadsWork(Protocol):
    """A project that runs the parts of a heavy measurement as separate tasks (the Dask engine's)."""

    part_seconds: float
    """About how much work one task should get; 0 makes every row a task of its own."""

    def run_parts(self, func: Callable[[Any], Any], parts: Sequence[Any]) -> list[Any]:
        """``[func(part) for part in parts]``, computed anywhere (the first parts first), returned in order."""
        ...


def task_name(func: Callable[[Any], Any]) -> str:
    """What the tasks of ``func``'s parts are called: its name (a partial's function's, a callable object's class's)."""
    named = getattr(func, "func", func)
    if isinstance(named, _EachItsOwn):
        return named.name
    return getattr(named, "__qualname__", None) or type(named).__qualname__


class _EachItsOwn:
    """Measures a part, given with the function made for it (``narrow``): ``(func, part) -> func(part)``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, pair: tuple[Callable[[pd.DataFrame], pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
        func, part = pair
        return func(part)


def by_parts(
    project: object,
    func: Callable[[pd.DataFrame], pd.DataFrame],
    frame: pd.DataFrame,
    seconds: Sequence[float],
    *,
    min_rows: int = 1,
    narrow: Callable[[pd.DataFrame], Callable[[pd.DataFrame], pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """``func(frame)``; on a cluster, ``func`` of consecutive parts of ``frame``, concatenated.

    ``func`` must treat each row on its own (its output for a frame is its outputs for the
    frame's parts, in order), so both give the same rows, bit for bit.  ``seconds`` is the
    expected cost of each row, for cutting the frame into parts of about equal work; no part
    has fewer than ``min_rows`` rows but the last.  ``narrow(part)``, when given, is a function
    that measures ``part`` as ``func`` does, bit for bit, with only what the part needs (the
    facilities near it): what a part's task carries to its worker.
    """
    if not isinstance(project, SpreadsWork) or len(frame) < 2:
        return func(frame)
    cuts, costs, done = [0], [], 0.0
    for position, cost in enumerate(seconds, start=1):
        done += float(cost)
        if done >= project.part_seconds and position - cuts[-1] >= min_rows and position < len(frame):
            cuts.append(position)
            costs.append(done)
            done = 0.0
    if len(cuts) < 2:
        return func(frame)
    cuts.append(len(frame))
    costs.append(done)
    parts = [frame.iloc[start:stop] for start, stop in zip(cuts[:-1], cuts[1:], strict=True)]
    largest_first = sorted(range(len(parts)), key=lambda i: -costs[i])  # the longest parts start first
    chosen = [parts[i] for i in largest_first]
    if narrow is None:
        results = project.run_parts(func, chosen)
    else:
        results = project.run_parts(_EachItsOwn(task_name(func)), [(narrow(part), part) for part in chosen])
    in_order = sorted(zip(largest_first, results, strict=True), key=lambda pair: pair[0])
    return pd.concat([result for _, result in in_order])
