"""What every family of the generation draws with."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pipeline.synthesize.exclusions import Exclusions, IdDrawer
from pipeline.synthesize.sampler import Sampler


@dataclass
class Context:
    """Shared by the families of `generate`. Each step draws from its own random stream
    (`step(name)`: `rng`, and `sampler` and `ids` on it), derived from the seed and the step's
    name: a step's draws do not shift when another step draws more, fewer or in another order."""

    model: dict[str, Any]
    params: dict                # the whole params dict (the fabric section is read too)
    settings: dict[str, Any]    # the checked `synthesize:` parameters (params.checked_params)
    kinds: list[str]            # sorted model kinds; a kind index points here
    rng: np.random.Generator
    sampler: Sampler
    ids: IdDrawer
    exclude: Exclusions | None  # real values to stay clear of
    seed: int = 0
    shards: int = 1             # synthesize.shards
    shard: int | None = None    # this shard's number; None: the whole data center (or its
                                # shared part, the fabric, when shards > 1)

    def step(self, name: str) -> "Context":
        """This context with the random stream of step `name` (one name per call site)."""
        rng = step_rng(self.seed, name, self.shard)
        return replace(self, rng=rng, sampler=Sampler(self.model, self.kinds, rng),
                       ids=IdDrawer(rng, self.exclude, self.id_prefix))

    @property
    def sharded(self) -> bool:
        return self.shards > 1

    @property
    def id_prefix(self) -> int | None:
        """First two bytes of every id drawn here when sharded: one value per shard and one for
        the shared part, so ids of different shards differ by construction. A seeded mask
        (XOR, a bijection) keeps them from reading 0000, 0001, ..."""
        if not self.sharded:
            return None
        mask = int(np.random.default_rng([int(self.seed), zlib.crc32(b"id_prefix")]).integers(1 << 16))
        return ((0 if self.shard is None else self.shard + 1) ^ mask) & 0xFFFF

    def part(self, lo: int, hi: int) -> tuple[int, int]:
        """This shard's part of the integer range [lo, hi]: K disjoint consecutive parts."""
        if self.shard is None or not self.sharded:
            return lo, hi
        span = hi - lo + 1
        return lo + span * self.shard // self.shards, lo + span * (self.shard + 1) // self.shards - 1

    @property
    def infra(self) -> dict[str, Any]:
        return self.model.get("infra") or {}

    @property
    def external(self) -> dict[str, Any]:
        return self.model.get("external") or {}


def step_rng(seed: int, name: str, shard: int | None = None) -> np.random.Generator:
    """The stream of one step: NumPy's SeedSequence over (seed, a stable hash of the name), and
    of one shard's step: over (seed, hash, shard + 1) (+ 1: SeedSequence ignores a trailing 0)."""
    if shard is None:
        return np.random.default_rng([int(seed), zlib.crc32(name.encode())])
    return np.random.default_rng([int(seed), zlib.crc32(name.encode()), int(shard) + 1])
