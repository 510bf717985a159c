"""Conversational evaluation on tiny data: leakage guard, determinism, a known-answer episode, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evalchat_helpers import tiny_components

from agentrec.evalchat import RuleSimulator, SimUser, build_systems, leaks, run_episodes, select_users
from agentrec.evalchat.leakage import title_variants
from agentrec.evalchat.pipeline import evaluate_chat
from agentrec.evalchat.quality import first_answer_quality
from agentrec.evalchat.runner import EpisodeLog, summarise
from agentrec.evalchat.simulator import Stated
from agentrec.retrieve.quality import QualityPrior
from agentrec.types import Catalog, Interactions, Item


@pytest.mark.parametrize(
    ("message", "title", "leak"),
    [
        ("Something like the matrix please", "Matrix, The (1999)", True),
        ("I want Matrix vibes", "Matrix, The (1999)", True),
        ("maybe the matrx?", "Matrix, The (1999)", True),  # a close variant (typo)
        ("more star wars stuff", "Star Wars: Episode IV - A New Hope (1977)", True),  # the main title
        ("I liked la cité des enfants perdus", "City of Lost Children, The (Cité des enfants perdus, La)", True),
        ("a sci-fi movie from the 90s", "Matrix, The (1999)", False),
        ("a cup of tea and some drama", "Up", False),  # short titles only match as whole words
        ("Can you pick up the pace", "Up", True),
        ("Recommend me a drama thriller movie from the 1990s.", "Firm, The", False),  # not "firm the"
        ("I loved The Firm", "Firm, The", True),
    ],
)
def test_leakage_guard(message: str, title: str, leak: bool) -> None:
    assert leaks(message, title) is leak


def test_title_variants_move_and_drop_the_article() -> None:
    v = title_variants("Matrix, The (1999)")
    assert {"the matrix", "matrix"} <= v
    with pytest.raises(ValueError, match="cutoff"):
        leaks("x", "y", cutoff=0)


def test_simulator_never_names_the_target_even_when_a_shown_item_is_a_variant(tiny_catalog: Catalog) -> None:
    # Target "Alien"; the list shows "Aliens", the only item the user could name as disliked.
    user = SimUser("0", 0, target_index=0, liked=(1, 2))
    for seed in range(20):
        sim = RuleSimulator(tiny_catalog, user, seed=seed, dislike_rate=1.0)
        msgs = [sim.opening()] + [sim.react([1, 1, 1]).message or "" for _ in range(4)]
        for m in msgs:
            assert not leaks(m, "Alien"), m
            assert "aliens" not in m.lower()


def test_simulator_protocol_and_stated_constraints(tiny_catalog: Catalog) -> None:
    sim = RuleSimulator(tiny_catalog, SimUser("0", 0, target_index=2, liked=(0,)), seed=3, k=2)
    first = sim.opening()
    assert not leaks(first, "Thing, The") and sim.stated.genres
    assert set(sim.stated.genres) <= {"Horror", "Sci-Fi"}
    assert sim.react([5, 3, 2]).hit is False  # the target is third: outside the top 2
    r = sim.react([2, 3])
    assert r.hit and r.message is None
    miss = sim.react([3, 4])
    assert miss.rejected == (3, 4) and miss.message
    assert Stated(["Horror"], 1980, 1989).violations(tiny_catalog[0]) == ["year 1979 outside 1980-1989"]
    assert Stated(["Comedy"]).violations(tiny_catalog[2]) == ["lacks genre Comedy"]


def test_same_seed_same_transcripts(tiny_catalog: Catalog, tiny_interactions: Interactions) -> None:
    comps = tiny_components(tiny_catalog, tiny_interactions)
    users = select_users(comps.split, comps.catalog, 2, seed=0, min_history=2)

    def transcripts(seed: int) -> list[list[dict]]:
        systems = build_systems(["popularity", "agent"], comps)
        res = run_episodes(systems, users, comps.catalog, turns=3, k=2, seed=seed)
        return [lg.transcript for logs in res.episodes.values() for lg in logs]

    assert transcripts(1) == transcripts(1)
    assert select_users(comps.split, comps.catalog, 2, seed=5, min_history=2) == select_users(
        comps.split, comps.catalog, 2, seed=5, min_history=2
    )


def test_offline_agent_hits_known_answer_within_two_turns(
    tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    comps = tiny_components(tiny_catalog, tiny_interactions)
    user = SimUser("0", 0, target_index=2, liked=(0,))  # held out: "The Thing" (1982, Horror / Sci-Fi)
    for seed in range(4):
        res = run_episodes(build_systems(["agent"], comps), [user], comps.catalog, turns=2, k=2, seed=seed)
        (log,) = res.episodes["agent"]
        assert log.hit_turn is not None and log.hit_turn <= 2, log.transcript
        assert log.repeated_rejections == 0 and log.constraint_violations == 0


def test_metrics_count_misses_as_turns_plus_one() -> None:
    logs = [EpisodeLog("s", "u", "t", hit_turn=1), EpisodeLog("s", "u", "t", hit_turn=3), EpisodeLog("s", "u", "t")]
    m = summarise(logs, turns=3)
    assert m["hit_rate"] == {1: 1 / 3, 2: 1 / 3, 3: 2 / 3}
    assert m["avg_turns"] == pytest.approx((1 + 3 + 4) / 3)


def test_report_files(tiny_catalog: Catalog, tiny_interactions: Interactions, tmp_path: Path) -> None:
    comps = tiny_components(tiny_catalog, tiny_interactions)
    res, paths = evaluate_chat(
        "tiny", components=comps, episodes=2, turns=2, k=2, systems=["popularity", "agent"], out_dir=tmp_path,
        seed=0, min_history=2, **_tiny_kwargs(),
    )  # fmt: skip
    data = json.loads(paths["json"].read_text())
    assert data["complete"] is True and set(data["metrics"]) == {"popularity", "agent"}
    assert "| agent |" in paths["markdown"].read_text()
    assert paths["plot"].read_bytes()[:4] == b"\x89PNG"
    assert res.metrics()["agent"]["episodes"] == 2
    first = data["metrics"]["agent"]["first_answer"]
    assert first["items"] >= 2 and first["median_count"] >= 0 and first["mean_shrunk"] is None  # implicit data
    assert "1st answer median count" in paths["markdown"].read_text()


def test_first_answer_quality_scores_the_first_turn_only() -> None:
    rows = [(u, 0, 5.0) for u in range(3)] + [(0, 1, 1.0)]
    u, i, r = (np.array(c) for c in zip(*rows, strict=True))
    train = Interactions(u, i, ("0", "1", "2"), ("a", "b", "c"), rating=r.astype(np.float32))
    prior = QualityPrior.from_interactions(train, m=1.0)
    log = EpisodeLog("s", "u", "t")
    log.transcript = [{"turn": 1, "shown": ["a", "b"]}, {"turn": 2, "shown": ["c"]}]
    got = first_answer_quality([log], prior, {"a": 0, "b": 1, "c": 2})
    mean = 16.0 / 4
    assert got["items"] == 2 and got["median_count"] == pytest.approx(2.0)  # counts 3 and 1
    assert got["mean_shrunk"] == pytest.approx(((15 + mean) / 4 + (1 + mean) / 2) / 2)
    assert first_answer_quality([EpisodeLog("s", "u", "t")], prior, {})["median_count"] is None


def _tiny_kwargs() -> dict:
    from agentrec.config import AgentConfig

    return {"config": AgentConfig()}


def test_select_users_prefers_liked_targets_with_year_and_genre(
    tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    cat = Catalog(tiny_catalog.items[:5] + (Item("5", "Finding Nemo", None, ("Animation",)),) + tiny_catalog.items[6:])
    comps = tiny_components(cat, tiny_interactions)
    (u,) = select_users(comps.split, cat, 1, seed=0, min_history=2)  # Finding Nemo has no year: not eligible
    assert (u.user_index, u.target_index) == (0, 2)


def test_simulator_never_reveals_a_period_as_a_tag(tiny_catalog: Catalog) -> None:
    # A tag such as "1970s" on a film made in 2010 would read as a second, contradicting period.
    from dataclasses import replace

    items = list(tiny_catalog.items)
    items[6] = replace(items[6], tags=("1970s", "old", "dreams", "heist"))
    sim = RuleSimulator(Catalog(items=tuple(items)), SimUser("0", 0, target_index=6), seed=0)
    assert sim._tags() == ["dreams", "heist"]
