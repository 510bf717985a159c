"""Execute the tutorials in small mode (as `make test` does) and publish them as HTML pages with their outputs.

    python tutorials/publish.py [--out docs/tutorials] [NAME ...]

Each notebook runs top to bottom in a fresh kernel, in order (later notebooks reuse what earlier ones built, in
one temporary artifacts directory). Outputs are cleaned of machine paths (the data directory becomes
``../shared/data``, temporary and home directories ``<tmp>`` and ``~``), links between notebooks point at the
HTML pages, and each page is written as ``<out>/<notebook>.html`` next to a shared ``style.css`` and an
``index.html``. The committed notebooks themselves stay without outputs.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

TUTORIALS = Path(__file__).resolve().parent
REPO = TUTORIALS.parent

CSS = """body { max-width: 1100px; margin: 2em auto; padding: 0 1em; font: 15px/1.5 system-ui, sans-serif; color: #222; }
pre, code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
.jp-InputArea pre, .input_area pre, .jp-Cell-inputWrapper pre { background: #f5f5f7; padding: .6em .8em; border-radius: 4px; overflow-x: auto; }
.jp-OutputArea pre, .output_area pre { padding: .3em .8em; overflow-x: auto; border-left: 3px solid #ddd; }
.jp-InputPrompt, .jp-OutputPrompt, .prompt { display: none; }
img { max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
nav.tutorials { font-size: 13px; color: #666; border-bottom: 1px solid #eee; margin-bottom: 1em; }
"""


def _cleaner(data_dir: str | None, tmp_root: str) -> Callable[[str], str]:
    """A function that replaces machine paths in text: the data directory, the temporary root, the home directory."""
    pairs = {tmp_root: "<tmp>", os.path.realpath(tmp_root): "<tmp>", str(Path.home()): "~"}
    if data_dir:
        pairs[data_dir] = "../shared/data"
        pairs[os.path.realpath(data_dir)] = "../shared/data"
    known = re.compile("|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True) if len(k) > 1))
    # Anything still absolute under a system temporary or working directory.
    other = re.compile(r"(?<![\w.])/(?:tmp|work|var/folders|private/var)/[^\s'\"<>)]*")

    def clean(text: str) -> str:
        return other.sub("<path>", known.sub(lambda m: pairs[m.group(0)], text))

    return clean


def _clean(nb: nbformat.NotebookNode, clean: Callable[[str], str]) -> None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            src = re.sub(r"\]\((\d\d_[\w]+)\.ipynb\)", r"](\1.html)", cell.source)
            src = src.replace("](README.md)", "](index.html)").replace("](../BENCHMARKS.md)", "](../../BENCHMARKS.md)")
            cell.source = src
            continue
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = clean(out["text"])
            for mime in ("text/plain", "text/html", "text/markdown"):
                if mime in out.get("data", {}):
                    out["data"][mime] = clean(out["data"][mime])


def _page(title: str, body: str, names: list[str], current: str) -> str:
    links = " · ".join(
        f"<b>{html.escape(n)}</b>" if n == current else f'<a href="{n}.html">{html.escape(n)}</a>' for n in names
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<link rel="stylesheet" href="style.css"></head><body>\n'
        f'<nav class="tutorials"><a href="index.html">agentrec tutorials</a>: {links}</nav>\n{body}\n</body></html>\n'
    )


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks and write the HTML pages; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to publish (default: all, in order)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "tutorials", help="output folder")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may run")
    args = parser.parse_args(argv)
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from pygments.formatters import HtmlFormatter

    all_names = [p.stem for p in sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))]
    names = args.names or all_names
    unknown = sorted(set(names) - set(all_names))
    if unknown:
        parser.error(f"unknown notebook(s) {unknown}; choose from {all_names}")
    args.out.mkdir(parents=True, exist_ok=True)
    root = tempfile.mkdtemp(prefix="agentrec-publish-")
    os.environ.update(
        {
            "TMPDIR": root,  # the notebooks' small-mode artifacts go to <tempdir>/agentrec-tutorials
            "IPYTHONDIR": str(Path(root) / "ipython"),
            "JUPYTER_RUNTIME_DIR": str(Path(root) / "jupyter-runtime"),
            "MPLCONFIGDIR": str(Path(root) / "matplotlib"),
            "MPLBACKEND": "Agg",
            "GRADIO_TEMP_DIR": str(Path(root) / "gradio"),
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
            "TRANSFORMERS_OFFLINE": os.environ.get("TRANSFORMERS_OFFLINE", "1"),
            "GRADIO_ANALYTICS_ENABLED": "False",
            # The kernels run in tutorials/: import agentrec from this checkout, not whichever one is installed.
            "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
        }
    )
    clean = _cleaner(os.environ.get("AGENTREC_DATA_DIR"), root)
    exporter = HTMLExporter(template_name="basic")
    (args.out / "style.css").write_text(CSS + HtmlFormatter(style="default").get_style_defs(".highlight"))
    for name in names:
        nb = nbformat.read(TUTORIALS / f"{name}.ipynb", as_version=4)
        start = time.perf_counter()
        NotebookClient(
            nb, timeout=args.timeout, kernel_name="python3", resources={"metadata": {"path": str(TUTORIALS)}}
        ).execute()
        _clean(nb, clean)
        body, _ = exporter.from_notebook_node(nb)
        title = next((c.source.splitlines()[0].lstrip("# ") for c in nb.cells if c.cell_type == "markdown"), name)
        (args.out / f"{name}.html").write_text(_page(title, body, all_names, name))
        print(f"{name}: {time.perf_counter() - start:.0f} s -> {args.out / f'{name}.html'}")
    items = "\n".join(f'<li><a href="{n}.html">{html.escape(n)}</a></li>' for n in all_names)
    intro = (
        "<h1>agentrec tutorials</h1><p>Executed in small mode (the run <code>make test</code> checks); "
        "the notebooks live in <code>tutorials/</code>.</p>"
    )
    (args.out / "index.html").write_text(_page("agentrec tutorials", f"{intro}<ol>{items}</ol>", all_names, ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
