"""Tenant projects: how many of each kind, their ids and name tokens, the project_labels table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipeline.synthesize.arrays import largest_remainder
from pipeline.synthesize.common import FALLBACK_KIND, UNLABELLED_KIND
from pipeline.synthesize.context import Context
from pipeline.synthesize.params import mix_shares
from pipeline.synthesize.text import LS, concat, pick


@dataclass
class Projects:
    kind: np.ndarray      # kind index per project
    ids: pa.Array         # 32-hex project ids
    admin_id: pa.Array    # the admin project's (owner of the external network)
    labelled: np.ndarray  # per kind: a real profile, not a fallback kind
    token: pa.Array       # per project: "<kind>-" for names ("" for the fallback kinds)

    @property
    def count(self) -> int:
        return len(self.kind)

    def owners(self) -> pa.Array:
        """Project ids to take from: the projects, then the admin (at `count`), then '' (at count + 1)."""
        return concat([self.ids, self.admin_id, pa.array([""], LS)])


def draw_kinds(ctx: Context) -> np.ndarray:
    """Kind index per project of the whole data center: the mix, in random order."""
    kinds, n_projects = ctx.kinds, ctx.settings["projects"]
    counts = largest_remainder(mix_shares(ctx.settings["mix"], ctx.model, kinds), n_projects)
    return ctx.rng.permutation(np.repeat(np.arange(len(kinds), dtype=np.int64), counts))


def draw_projects(ctx: Context) -> Projects:
    kind_p = draw_kinds(ctx)
    proj_ids = ctx.ids.hex32(len(kind_p))
    return make_projects(ctx, kind_p, proj_ids, ctx.ids.hex32(1))


def shard_projects(ctx: Context, kind_p: np.ndarray, admin_id: pa.Array) -> Projects:
    """One shard's projects: their kinds (a slice of the data center's), ids from the shard's
    stream, the data center's admin project."""
    return make_projects(ctx, kind_p, ctx.ids.hex32(len(kind_p)), admin_id)


def make_projects(ctx: Context, kind_p: np.ndarray, proj_ids: pa.Array, admin_id: pa.Array) -> Projects:
    kinds = ctx.kinds
    # Names carry the kind as their second dash-separated field (syn-web-sn1), as the naming
    # labeler expects; projects of the fallback kinds (no profile) get none (syn-sn1).
    labelled = np.array([k not in (FALLBACK_KIND, UNLABELLED_KIND) for k in kinds] or [False])
    tok = [(("".join(ch for ch in k.lower() if ch.isalnum()) or "x") + "-") if labelled[i] else ""
           for i, k in enumerate(kinds)]
    return Projects(kind=kind_p, ids=proj_ids, admin_id=admin_id, labelled=labelled, token=pick(tok, kind_p))


def labels_table(projects: Projects, kinds: list[str]) -> dict[str, pa.Array]:
    """Ground truth for the projects of real kinds (fallback kinds are "no label", as in the input)."""
    kind_p = projects.kind
    lab = np.flatnonzero(projects.labelled[kind_p]) if projects.count else np.zeros(0, np.int64)
    return {"project_id": projects.ids.take(pa.array(lab)), "profile": pick(kinds, kind_p[lab])}
