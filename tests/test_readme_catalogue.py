"""The README's "Bring your own catalogue" walk-through, run as written: its spec and its commands."""

from __future__ import annotations

import io
import re
import shlex
import sys
from pathlib import Path

import pytest

from agentrec.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def _section() -> str:
    text = README.read_text()
    start = text.index("### Bring your own catalogue")
    return text[start : text.index("\n### ", start + 5)]


def _block(section: str, lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert match, f"no ```{lang} block in the README section"
    return match.group(1)


def _files(folder: Path) -> None:
    """events.csv / books.csv with the columns the README's spec names (30 books, 12 readers)."""
    words = ["mystery", "Paris", "space", "dragons", "cooking", "romance"]
    rows = ["user,book,stars,when"]
    for u in range(12):
        for k in range(5):
            rows.append(f"r{u},bk{(3 * u + k) % 30},{1 + (u + k) % 5},2024-01-{1 + k:02d}")
    (folder / "events.csv").write_text("\n".join(rows) + "\n")
    books = ["book,name,blurb,subjects,published"]
    for i in range(30):
        w = words[i % len(words)]
        books.append(f"bk{i},The {w.title()} Book {i},A short {w} story.,{w.title()}|Fiction,{1990 + i}")
    (folder / "books.csv").write_text("\n".join(books) + "\n")


@pytest.mark.slow
def test_the_walk_through_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    section = _section()
    _files(tmp_path)
    (tmp_path / "books.toml").write_text(_block(section, "toml"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTREC_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("AGENTREC_TORCH_THREADS", "0")
    commands = [line.split("#")[0].strip() for line in _block(section, "bash").splitlines()]
    commands = [c for c in commands if c]
    assert [c.split()[1] for c in commands] == ["data", "index", "train", "recommend", "chat"]
    for command in commands:
        argv = shlex.split(command)[1:]
        if argv[0] == "train":
            argv += ["--epochs", "2", "--no-progress"]  # a smoke run: the walk-through, not the recipe
        if argv[0] == "chat":
            monkeypatch.setattr(sys, "stdin", io.StringIO("something with dragons\nquit\n"))
        assert main(argv) == 0, command
    out = capsys.readouterr().out
    assert "split:" in out and "temporal (from the dataset spec's [split])" in out
    assert "indexed 30 items of books.toml" in out
    assert "[offline mode]" in out
    from agentrec import Agent
    from agentrec.config import AgentConfig

    agent = Agent.load("books", config=AgentConfig(), build_missing=False)
    assert agent.recommend("dragons", k=3)
