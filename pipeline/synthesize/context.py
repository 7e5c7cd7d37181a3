"""What every family of the generation draws with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.synthesize.exclusions import Exclusions, IdDrawer
from pipeline.synthesize.sampler import Sampler


@dataclass
class Context:
    """Shared by the families of `generate`. All of them draw from the one random stream `rng`
    (through `sampler` and `ids` too), in a fixed order: the output depends on the seed alone,
    so the orchestrator must keep calling the families' draws in the same order."""

    model: dict[str, Any]
    params: dict                # the whole params dict (the fabric section is read too)
    settings: dict[str, Any]    # the checked `synthesize:` parameters (params.checked_params)
    kinds: list[str]            # sorted model kinds; a kind index points here
    rng: np.random.Generator
    sampler: Sampler
    ids: IdDrawer
    exclude: Exclusions | None  # real values to stay clear of

    @property
    def infra(self) -> dict[str, Any]:
        return self.model.get("infra") or {}

    @property
    def external(self) -> dict[str, Any]:
        return self.model.get("external") or {}
