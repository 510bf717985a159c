"""eval-chat bad input: clear messages, and no partial report passed off as complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evalchat_helpers import tiny_components

from agentrec.cli import main
from agentrec.config import AgentConfig
from agentrec.evalchat import build_systems, run_episodes, select_users
from agentrec.evalchat.llmsim import LLMSimulator
from agentrec.evalchat.pipeline import evaluate_chat
from agentrec.evalchat.simulator import SimUser
from agentrec.types import Catalog, Interactions


def test_unknown_dataset_is_named_before_anything_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match=r"dataset 'nope' is unknown; valid datasets are .*ml-latest-small"):
        evaluate_chat("nope", episodes=1, out_dir=tmp_path, config=AgentConfig())
    assert main(["eval-chat", "--dataset", "nope", "--out", str(tmp_path / "r")]) == 1
    assert "valid datasets" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_too_few_eligible_users(tiny_catalog: Catalog, tiny_interactions: Interactions) -> None:
    comps = tiny_components(tiny_catalog, tiny_interactions)
    with pytest.raises(ValueError, match=r"episodes=3 but only 2 test users are eligible"):
        select_users(comps.split, comps.catalog, 3, min_history=2)
    with pytest.raises(ValueError, match="episodes must be a positive integer, got 0"):
        select_users(comps.split, comps.catalog, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--k", "0"], "k must be an integer between 1 and 50, got 0"),
        (["--k", "51"], "k must be an integer between 1 and 50, got 51"),
        (["--turns", "0"], "turns must be an integer between 1 and 10, got 0"),
        (["--turns", "11"], "turns must be an integer between 1 and 10, got 11"),
        (["--simulator", "gpt"], "simulator must be one of ('rules', 'llm'), got 'gpt'"),
        (["--systems", "random"], "systems: unknown ['random']; valid systems are"),
    ],
)
def test_out_of_range_arguments(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTREC_LLM_MODEL", raising=False)
    assert main(["eval-chat", "--out", str(tmp_path / "r"), *argv]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_llm_simulator_without_endpoint(
    tmp_path: Path, tiny_catalog: Catalog, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTREC_LLM_MODEL", raising=False)
    assert main(["eval-chat", "--simulator", "llm", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "simulator='llm' needs an LLM endpoint: set AGENTREC_LLM_MODEL" in err
    assert not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match="needs an LLM endpoint"):
        LLMSimulator(tiny_catalog, SimUser("0", 0, 2), AgentConfig())
    with pytest.raises(ValueError, match="'agent-llm' needs an LLM"):
        evaluate_chat("ml-latest-small", systems=["agent-llm"], config=AgentConfig())


def test_cut_short_run_is_labelled_incomplete(
    tiny_catalog: Catalog, tiny_interactions: Interactions, tmp_path: Path
) -> None:
    comps = tiny_components(tiny_catalog, tiny_interactions)
    res, paths = evaluate_chat(
        "tiny", components=comps, episodes=2, turns=2, k=2, systems=["popularity"], out_dir=tmp_path,
        min_history=2, time_budget_s=0.0, config=AgentConfig(),
    )  # fmt: skip
    assert res.complete is False
    data = json.loads(paths["json"].read_text())
    assert data["complete"] is False and data["status"].startswith("INCOMPLETE")
    assert "INCOMPLETE" in paths["markdown"].read_text().splitlines()[0]
    with pytest.raises(ValueError, match="k must be an integer between 1 and 50"):
        run_episodes(build_systems(["popularity"], comps), [SimUser("0", 0, 2)], comps.catalog, k=0)
