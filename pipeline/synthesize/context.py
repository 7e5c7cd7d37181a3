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

    def step(self, name: str) -> "Context":
        """This context with the random stream of step `name` (one name per call site)."""
        rng = step_rng(self.seed, name)
        return replace(self, rng=rng, sampler=Sampler(self.model, self.kinds, rng),
                       ids=IdDrawer(rng, self.exclude))

    @property
    def infra(self) -> dict[str, Any]:
        return self.model.get("infra") or {}

    @property
    def external(self) -> dict[str, Any]:
        return self.model.get("external") or {}


def step_rng(seed: int, name: str) -> np.random.Generator:
    """The stream of one step: NumPy's SeedSequence over (seed, a stable hash of the name)."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])
