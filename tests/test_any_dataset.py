"""Any catalogue end to end: a spec file -> Agent.load / the CLI; names-only catalogues get a text index; catalogue
text with braces, quotes, Markdown and HTML; items a user had in any part of the split never come back as new."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentrec.agent import Agent
from agentrec.cli import main
from agentrec.config import AgentConfig
from agentrec.data import prepare_dataset
from agentrec.retrieve import Retriever
from agentrec.types import Catalog, Interactions, Item, Query, Split

_NAMES = [
    "{F.B.R}",
    'The "Quoted" Band',
    "**Bold** Markdown _Band_",
    "<b>HTML</b> & Co",
    "Braces {year} {0} }{",
    "Plain Rock Band",
    "Quiet Folk Duo",
    "Loud Metal Trio",
    *(f"Garage Band Number {i}" for i in range(8, 24)),  # training checks recall@20: 20+ items
]


def _artists(folder: Path) -> Path:
    """A music catalogue with names only (no text columns, no genres, no years) and 12 listeners."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["listener,artist,ts"]
    for u in range(12):
        for k in range(4):
            rows.append(f"l{u},a{(u + 2 * k) % len(_NAMES)},{100 * u + k}")
    (folder / "plays.csv").write_text("\n".join(rows) + "\n")
    lines = ["artist\tname"] + [f"a{i}\t{n}" for i, n in enumerate(_NAMES)]
    (folder / "artists.tsv").write_text("\n".join(lines) + "\n")
    spec = folder / "artists.toml"
    spec.write_text(
        'name = "artists"\nformat = "tabular"\n[files]\ninteractions = "plays.csv"\nitems = "artists.tsv"\n'
        '[columns]\nuser = "listener"\nitem = "artist"\ntimestamp = "ts"\ntitle = "name"\n'
        '[split]\nkind = "temporal"\nvalid_fraction = 0.1\n'
    )
    return spec


@pytest.mark.slow
def test_a_names_only_catalogue_from_a_spec_to_an_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _artists(tmp_path / "data")
    art = tmp_path / "art"
    monkeypatch.delenv("AGENTREC_PROFILES_URL", raising=False)
    agent = Agent.load(str(spec), artifacts_dir=art, config=AgentConfig(), torch_threads=0)
    assert agent.profiles is None  # nothing is persisted unless asked
    comps = agent.components
    assert comps.name == "artists" and comps.split.name == "temporal"
    assert comps.store is not None and comps.store.count() == len(_NAMES)  # titles count as item text
    hits = comps.store.search("{F.B.R}", k=3)
    assert hits[0].title == "{F.B.R}"
    recs = agent.recommend("loud metal", k=3)
    assert recs and all(r.title in _NAMES for r in recs)
    # Everything a user played, in any part of the split, is never shown to them as new.
    split = comps.split
    for u in range(split.train.num_users):
        user = split.train.user_ids[u]
        played = {int(i) for part in (split.train, split.valid, split.test) if part is not None
                  for i in part.item_index[part.user_index == u]}  # fmt: skip
        shown = {r.item_index for r in agent.recommend("anything", user=user, k=8)}
        assert not shown & played, user
    # The artifacts folder and the recorded name load without building anything; profiles follow the environment.
    monkeypatch.setenv("AGENTREC_PROFILES_URL", str(tmp_path / "profiles.sqlite"))
    again = Agent.load(art / "artists", config=AgentConfig(), build_missing=False, torch_threads=0)
    assert again.components.catalog[0].title == "{F.B.R}" and again.profiles is not None
    monkeypatch.delenv("AGENTREC_PROFILES_URL")
    by_name = Agent.load("artists", artifacts_dir=art, config=AgentConfig(), build_missing=False, torch_threads=0)
    assert len(by_name.components.catalog) == len(_NAMES)
    # The command line takes the spec path (or the name) wherever it takes --dataset.
    common = ["--dataset", str(spec), "--artifacts-dir", str(art)]
    assert main(["recommend", "quiet folk", "--k", "2", *common]) == 0
    assert "offline" in capsys.readouterr().out
    assert main(["candidates", "metal", "--k", "3", "--no-build", *common]) == 0
    assert "[id a" in capsys.readouterr().out
    assert main(["search", "{F.B.R}", "--k", "1", "--dataset", "artists", "--artifacts-dir", str(art)]) == 0
    assert "{F.B.R}" in capsys.readouterr().out
    monkeypatch.setenv("AGENTREC_ARTIFACTS_DIR", str(art))
    assert main(["data", "info", "--dataset", "artists"]) == 0
    assert "(from the dataset spec's [split])" in capsys.readouterr().out


def test_known_interactions_are_never_new() -> None:
    catalog = Catalog(items=tuple(Item(str(i), f"Item {i}", overview=f"thing {i}") for i in range(6)))
    everything = Interactions.from_arrays([0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 3, 4], num_users=3, num_items=6)
    split = Split(train=everything.subset(np.array([0, 1, 3, 5])), test=everything.subset(np.array([2, 4])))
    plain = Retriever(catalog, split.train)
    served = Retriever(catalog, split.train, known=everything)
    # User 0 rated item 2 in the test part: offline evaluation may return it, serving never does.
    assert 2 in {c.item_index for c in plain.retrieve(Query(user_id="0", k=6)).candidates}
    assert 2 not in {c.item_index for c in served.retrieve(Query(user_id="0", k=6)).candidates}
    assert "in the user's history" in served.check(2, Query(user_id="0"))
    assert "in the user's history" not in plain.check(2, Query(user_id="0"))
    other = Interactions.from_arrays([0], [0], num_users=2, num_items=6)
    with pytest.raises(ValueError, match="same index space"):
        Retriever(catalog, split.train, known=other)


def test_prepared_spec_catalogue_keeps_names_verbatim(tmp_path: Path) -> None:
    prepared = prepare_dataset(_artists(tmp_path / "data"), artifacts_dir=tmp_path / "art")
    assert [it.title for it in prepared.dataset.catalog.items] == _NAMES
