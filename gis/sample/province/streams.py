"""Random streams of the province sample: each a child of the seed named by what it draws.

A county's features come from the stream of (layer, county), so a county's data do not depend
on how many features other counties drew, and adding a layer leaves the others as they were.
"""

from __future__ import annotations

import zlib

import numpy as np

PROVINCE_KEY = 410000
"""First spawn key of every province stream (apart from the Sanmenxia sample's streams of the same seed)."""


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def province_rng(seed: int, name: str) -> np.random.Generator:
    """The stream of *name* for the whole province."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PROVINCE_KEY, _key(name))))


def county_rng(seed: int, name: str, county: int) -> np.random.Generator:
    """The stream of *name* in the county with index *county*."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PROVINCE_KEY, _key(name), county + 1)))
