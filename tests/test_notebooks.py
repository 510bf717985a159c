"""The tutorials: committed without outputs, small mode by default, each one runs top to bottom and tells the truth.

Execution uses nbclient (what nbmake runs), in the notebooks' own small mode, in file order so that later
notebooks reuse what earlier ones built (one shared temporary artifacts directory for the session). Every
notebook writes its key figures to ``<artifacts>/tutorials/<notebook>.json``; the checks below hold them to
sane ranges, so a notebook that runs but prints nonsense fails.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
STAGES = ("01", "02", "03", "04", "05", "06", "07", "08")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _record(root: Path, name: str) -> dict[str, Any]:
    path = root / "agentrec-tutorials" / "tutorials" / f"{name}.json"
    assert path.is_file(), f"{name} did not record its key figures in {path}"
    return json.loads(path.read_text())


def _check_01(r: dict[str, Any]) -> None:
    assert r["toy_interactions"] == 6
    assert r["num_users"] > 0 and r["num_items"] > 0
    assert sum(r["split_sizes"].values()) == r["num_interactions"]  # ml-100k has no duplicate pairs
    assert 0.5 < r["top20_share"] < 1.0  # a long tail
    assert r["cold_items"] > 0 and r["cold_items_in_train"] == 0


def _check_02(r: dict[str, Any]) -> None:
    assert r["embedding_dim"] == 384 and r["max_norm_error"] < 1e-3
    assert r["toy_same_topic"] > r["toy_cross_topic"] + 0.1  # meaning, not words, groups the toy sentences
    assert r["indexed"] == r["num_items"] and r["space_hits"] == 5
    assert r["genre_hits_all_match"] is True and r["bad_filter_rejected"] is True


def _check_03(r: dict[str, Any]) -> None:
    assert r["toy_layer_error"] < 1e-6 and r["toy_softmax_agentrec_error"] < 1e-6
    assert abs(r["toy_bpr_loss"] - 0.201413) < 1e-5 and abs(r["toy_softmax_loss"] - 0.495182) < 1e-5
    assert abs(r["largest_eigenvalue"] - 1.0) < 1e-4
    assert r["last_loss"] < r["first_loss"]
    assert r["best_valid_recall@20"] > 0.2 and r["test_recall@20"] > 0.2  # converged: popularity is ~0.17
    assert r["reload_diff"] < 1e-6
    assert r["min_degree_recommended"] > 0  # recommended items have interactions


def _check_04(r: dict[str, Any]) -> None:
    assert r["toy_error"] < 1e-9 and r["toy_recall@3"] == 0.75 and abs(r["toy_ndcg@3"] - 0.693426) < 1e-5
    recall = r["recall@20"]
    assert recall["text-lightgcn"] > 1.2 * recall["popularity"], recall  # the small-mode table tells the truth
    assert min(recall["lightgcn"], recall["mf-bpr"]) > recall["popularity"], recall
    assert recall["graph-filter"] > recall["lightgcn"], recall  # no training, more accurate (ml-100k, small mode)
    for name in ("mf-bpr", "lightgcn", "text-lightgcn"):
        assert r["median_degree_top20"][name] > 10, (name, r["median_degree_top20"])  # learned taste, not noise
        assert r["never_trained_share_top20"][name] < 0.05, (name, r["never_trained_share_top20"])
        assert r["epochs"][name] == 10
    assert r["cold_recall@20"]["popularity"] == 0.0
    assert r["cold_recall@20"]["text-knn"] > r["cold_recall@20"]["lightgcn"]
    for name in r["sampled_hit@10_first_item"]:  # sampled ranking inflates hit rates
        assert r["sampled_hit@10_first_item"][name] > r["full_hit@10_first_item"][name]
    assert r["unmasked_train_share"] > 0.1


def _check_05(r: dict[str, Any]) -> None:
    assert r["candidates"] == 5 and r["candidates_violating_filters"] == 0
    assert r["rrf_error"] < 1e-9 and "gnn" in r["sources"]
    assert r["median_degree_candidates"] > 0  # recommended items have interactions
    assert r["cold_start_candidates"] == 5 and r["cold_start_returns_liked"] == 0
    assert r["impossible_filter_candidates"] == 0 and r["impossible_filter_noted"]
    assert r["paths"] > 0 and r["paths_verified"] == r["paths"] and r["pictures"] > 0


def _check_06(r: dict[str, Any]) -> None:
    assert r["mode"] == "offline" and r["recommendations"] == 5 and r["every_rec_has_reason"]
    assert r["median_degree_recommended"] > 0 and r["turns_answered"] == 3
    assert r["guard_accepted"] == [r["guard_valid_id"]]  # the valid proposal passes ...
    assert r["guard_planted_rejected"] == [True, True, True]  # ... and every planted invalid one is rejected
    reasons = r["guard_reasons"]
    assert "not in the catalogue" in reasons[0] and "tool result" in reasons[1] and "evidence" in reasons[2]


def _check_07(r: dict[str, Any]) -> None:
    assert r["first_answer_cards"] > 0 and r["same_session_cards"] > 0
    assert r["disliked_in_same_session"] is False and r["disliked_in_other_session"] is True
    assert r["http_status"] == 200 and r["content_type"] == "text/html"


def _check_08(r: dict[str, Any]) -> None:
    assert r["items"] == 1585 and r["valid"] == r["test"] == 2928
    assert r["toy_test"] == {"ada": ["varnish"], "ben": ["brush"]}
    assert all(n > 0 for n in r["answers"].values())
    assert r["glue_answer_mentions_glue"] >= 3
    assert r["known_customer_recs"] > 0 and r["already_bought_recommended"] == []


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "01_data": _check_01,
    "02_text_search": _check_02,
    "03_graph_gnn": _check_03,
    "04_evaluation": _check_04,
    "05_candidates_paths": _check_05,
    "06_agent": _check_06,
    "07_app": _check_07,
    "08_your_catalogue": _check_08,
}


def test_one_notebook_per_stage() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == list(STAGES), [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs; strip them (e.g. nbstripout or nbconvert --clear-output)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_defaults_to_small(path: Path) -> None:
    nb = _read(path)
    first = nb.cells[0]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", [])
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(first.source).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert assigned.get("SMALL") is True, f"{path.name}: the parameters cell must set SMALL = True"
    # Every code cell is valid Python, and the notebook calls agentrec rather than re-implementing it.
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    for source in sources:
        ast.parse(source)
    assert any("from agentrec" in s for s in sources[1:])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_teaches_and_links_on(path: Path) -> None:
    nb = _read(path)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"^## Concept: ", markdown, re.M), f"{path.name}: no '## Concept: ...' section"
    ending = nb.cells[-1].source
    for heading in ("## What you learned", "## Try next", "## Exercises"):
        assert heading in markdown, f"{path.name}: no {heading!r} section"
    index = NOTEBOOKS.index(path)
    if index > 0:
        assert "Previous: [" in ending and f"({NOTEBOOKS[index - 1].name})" in ending, f"{path.name}: no link back"
    if index < len(NOTEBOOKS) - 1:
        assert f"({NOTEBOOKS[index + 1].name})" in ending, f"{path.name}: no link to the next notebook"
    assert path.stem in CHECKS and f'"{path.stem}.json"' in code, f"{path.name}: does not record its key figures"
    assert 'device="cpu"' not in code, f"{path.name}: use device='auto' (the GPU when there is one)"
    assert "plt.show()" not in code, f"{path.name}: draw with agentrec.plots (plt.show draws nothing under Agg)"


def test_app_notebook_launches_without_an_inline_frame() -> None:
    code = "\n".join(c.source for c in _read(TUTORIALS / "07_app.ipynb").cells if c.cell_type == "code")
    assert "inline=False" in code and "demo.close()" in code


@pytest.fixture(scope="module")
def notebook_env(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the kernels: the real data, offline, every cache in one temporary directory."""
    root = tmp_path_factory.mktemp("notebooks")
    return {
        "AGENTREC_DATA_DIR": str(shared_data),
        "TMPDIR": str(root),  # the notebooks' small-mode artifacts go to <tempdir>/agentrec-tutorials
        "IPYTHONDIR": str(root / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(root / "jupyter-runtime"),
        "MPLCONFIGDIR": str(root / "matplotlib"),
        "MPLBACKEND": "Agg",
        "GRADIO_TEMP_DIR": str(root / "gradio"),
        "TOKENIZERS_PARALLELISM": "false",
        # The kernels run in tutorials/: import agentrec from this checkout, not whichever one is installed.
        "PYTHONPATH": os.pathsep.join([str(TUTORIALS.parent), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, notebook_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    for key, value in notebook_env.items():
        monkeypatch.setenv(key, value)
    nb = _read(path)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(TUTORIALS)}})
    client.execute()  # a failing cell raises CellExecutionError with the cell and traceback
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    stderr = [o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert not [t for t in stderr if "%|" in t or "Loading weights" in t], f"progress bars on stderr: {stderr}"
    CHECKS[path.stem](_record(Path(notebook_env["TMPDIR"]), path.stem))


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "dataset"),
    [("02_text_search", "gowalla"), ("05_candidates_paths", "amazon-scientific")],
    ids=["02-gowalla", "05-amazon-scientific"],
)
def test_notebook_runs_on_another_catalogue(
    name: str, dataset: str, notebook_env: dict[str, str], shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Examples come from the catalogue: ids only (gowalla, no text, no genres) and products (no genres, no years)."""
    from nbclient import NotebookClient

    if not (shared_data / dataset).is_dir():
        pytest.skip(f"{dataset} not in the shared data")
    for key, value in notebook_env.items():
        monkeypatch.setenv(key, value)
    nb = _read(TUTORIALS / f"{name}.ipynb")
    nb.cells[0].source += f"\nDATASET = {dataset!r}"
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(TUTORIALS)}})
    client.execute()
    errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    record = _record(Path(notebook_env["TMPDIR"]), name)
    assert record["dataset"] == dataset
    if name == "02_text_search":  # ids only: nothing to index, and the notebook says so rather than failing
        assert record["has_text"] is False and record["indexed"] == 0
    else:
        _check_05(record)


DOCS = TUTORIALS.parent / "docs" / "tutorials"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_published_page_is_linked_and_free_of_machine_paths(path: Path) -> None:
    page = DOCS / f"{path.stem}.html"
    assert page.is_file(), f"{page} is missing: run `make docs` and commit docs/tutorials/"
    html = page.read_text()
    if path.stem in ("01_data", "03_graph_gnn", "04_evaluation", "05_candidates_paths"):
        assert "<img" in html, f"{page.name} lost its pictures"
    leaks = sorted(set(re.findall(r"(?<![\w.<])/(?:tmp|work|home|root|Users)/[\w./-]*", html)))
    assert not leaks, f"{page.name} shows machine paths {leaks[:5]}; publish with tutorials/publish.py"
    for readme in (TUTORIALS.parent / "README.md", TUTORIALS / "README.md"):
        assert f"docs/tutorials/{path.stem}.html" in readme.read_text(), f"{readme} does not link {page.name}"
