import subprocess
import sys


def test_import_agentrec_stays_light() -> None:
    """`import agentrec` must not pull in gradio or langchain (people who only train retrievers)."""
    code = "import sys, agentrec; print([m for m in ('gradio', 'langchain', 'langchain_openai') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_help() -> None:
    out = subprocess.run([sys.executable, "-m", "agentrec", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "agentrec" in out.stdout


def test_agent_is_exported_lazily() -> None:
    code = "import sys, agentrec; a = agentrec.Agent; print(a.__name__, 'langchain' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "Agent"
