"""The tutorials: committed without outputs, small mode by default, and each one runs top to bottom.

Execution uses nbclient (what nbmake runs), in the notebooks' own small mode, in file order so that later
notebooks reuse what earlier ones built (one shared temporary artifacts directory for the session).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
STAGES = ("01", "02", "03", "04", "05", "06", "07", "08")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


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
    errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


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
