"""Each step of the generation draws from its own random stream (Context.step): a step that
draws more (or fewer) numbers leaves every other step's output as it was."""

from __future__ import annotations

import importlib

import pandas as pd

from pipeline.synthesize.context import step_rng
from synth_fixtures import PARAMS, sample_model

G = importlib.import_module("pipeline.synthesize.generate")  # the package re-exports the function
SMALL = {**PARAMS, "synthesize": {**PARAMS["synthesize"], "hosts": 40, "projects": 12, "seed": 3}}


def test_streams_are_stable_per_seed_and_step_and_differ_between_steps():
    assert step_rng(3, "ports").integers(1 << 30) == step_rng(3, "ports").integers(1 << 30)
    assert step_rng(3, "ports").integers(1 << 30) != step_rng(3, "routers").integers(1 << 30)
    assert step_rng(3, "ports").integers(1 << 30) != step_rng(4, "ports").integers(1 << 30)


def test_a_step_drawing_more_leaves_the_other_steps_alone(monkeypatch):
    before = G.generate(sample_model(), SMALL)
    draw = G.draw_security_groups

    def draws_more(ctx, *args):
        ctx.rng.random(1000)  # a changed security-group generator that draws more
        return draw(ctx, *args)

    monkeypatch.setattr(G, "draw_security_groups", draws_more)
    after = G.generate(sample_model(), SMALL)
    # with one stream, every draw after the security groups (all the tables) would shift
    for name in ("networks", "subnets", "ports", "port_ips", "hosts", "routers", "floating_ips"):
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)
    assert not before["security_group_rules"].equals(after["security_group_rules"])
