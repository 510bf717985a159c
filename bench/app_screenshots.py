"""The README's screenshots of the chat app: a film conversation (docs/app.png) and a product one
(docs/app-products.png), each a real `agentrec serve` subprocess driven in headless Chromium.

    AGENTREC_DATA_DIR=../shared/data .venv/bin/python bench/app_screenshots.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_first_turn import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, turn, wait_up  # noqa: E402

SHOTS = {
    "app.png": ("ml-latest-small", ["dark sci-fi from the 80s, no horror", "more like the second one"]),
    "app-products.png": ("amazon-scientific", ["3D printer filament", "not HATCHBOX"]),
}


def shoot(dataset: str, messages: list[str], out: Path, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("AGENTREC_LLM_MODEL", None)
    cmd = [sys.executable, "-m", "agentrec", "serve", "--dataset", dataset, "--port", str(port), "--max-cards", "6"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        wait_up(url, proc, 900)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="load")
            page.locator("#agentrec-message textarea").wait_for(state="visible", timeout=60_000)
            for message in messages:
                turn(page, message)
            summaries = page.locator(".agentrec-card summary")
            if summaries.count():
                summaries.first.click()
            page.mouse.move(0, 0)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"wrote {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=str(ROOT / "docs"))
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--only", choices=sorted(SHOTS), default=None)
    args = parser.parse_args()
    for name, (dataset, messages) in SHOTS.items():
        if args.only in (None, name):
            shoot(dataset, messages, Path(args.out_dir) / name, args.width, args.height)
    return 0


if __name__ == "__main__":
    sys.exit(main())
