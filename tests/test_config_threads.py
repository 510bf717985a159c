"""The library-wide PyTorch thread setting: ``AGENTREC_TORCH_THREADS`` (default 1 for serving)."""

from __future__ import annotations

import pytest

from agentrec.config import apply_torch_threads, torch_threads_from_env


def test_default_is_one_thread_for_serving() -> None:
    assert torch_threads_from_env({}) == 1
    assert torch_threads_from_env({"AGENTREC_TORCH_THREADS": " "}) == 1


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("1", 1), ("4", 4)])
def test_env_value_is_read(raw: str, expected: int) -> None:
    assert torch_threads_from_env({"AGENTREC_TORCH_THREADS": raw}) == expected


@pytest.mark.parametrize("raw", ["two", "-1", "1.5"])
def test_bad_env_value_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="AGENTREC_TORCH_THREADS"):
        torch_threads_from_env({"AGENTREC_TORCH_THREADS": raw})


def test_apply_sets_and_zero_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        assert apply_torch_threads(1) == 1
        assert torch.get_num_threads() == 1
        assert apply_torch_threads(0) == 1  # 0 leaves the current setting alone
        monkeypatch.setenv("AGENTREC_TORCH_THREADS", "2")
        assert apply_torch_threads() == 2
        with pytest.raises(ValueError, match="whole number"):
            apply_torch_threads(-3)
    finally:
        torch.set_num_threads(before)
