"""GroupLens download code against a local HTTP server on 127.0.0.1 serving an archive the test builds."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from agentrec.data import DownloadError, fetch_movielens, load_dataset
from agentrec.data.download import parse_md5
from agentrec.data.registry import dataset_path


def _archive(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        # official archives use CRLF line endings
        zf.writestr(
            f"{name}/ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n2,1,3.0,9649827\r\n"
        )
        zf.writestr(f"{name}/movies.csv", "movieId,title,genres\r\n1,Toy Story (1995),Animation\r\n")
    return buf.getvalue()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/datasets/movielens", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _publish(root: Path, name: str, data: bytes, md5: str | None = None) -> None:
    folder = root / "datasets" / "movielens"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.zip").write_bytes(data)
    digest = md5 or hashlib.md5(data).hexdigest()
    (folder / f"{name}.zip.md5").write_text(f"MD5 ({name}.zip) = {digest}\n")


def test_download_good_checksum(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    _publish(root, "ml-latest-small", _archive("ml-latest-small"))
    data_dir = tmp_path / "data"
    folder = fetch_movielens("ml-latest-small", data_dir, base_url=url)
    assert folder == data_dir / "ml-latest-small"
    assert (folder / "ratings.csv").is_file()
    assert [p.name for p in data_dir.iterdir()] == ["ml-latest-small"]  # no temp files left behind
    ds = load_dataset("ml-latest-small", data_dir)  # already there: no second download
    assert (ds.num_users, ds.num_items, len(ds.interactions)) == (2, 1, 2)


def test_load_dataset_downloads_when_missing(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    _publish(root, "ml-latest-small", _archive("ml-latest-small"))
    folder = dataset_path("ml-latest-small", tmp_path / "d", base_url=url)
    assert (folder / "movies.csv").is_file()


def test_download_bad_checksum(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    _publish(root, "ml-latest-small", _archive("ml-latest-small"), md5="0" * 32)
    data_dir = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"checksum mismatch for .*ml-latest-small.zip.*0{32}"):
        fetch_movielens("ml-latest-small", data_dir, base_url=url)
    assert list(data_dir.iterdir()) == []  # nothing half-extracted


def test_download_404(server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = server
    with pytest.raises(DownloadError, match=r"ml-1m.zip.md5 returned HTTP 404.*download the archive by hand"):
        fetch_movielens("ml-1m", tmp_path, base_url=url)


def test_download_unreachable(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="could not reach"):
        fetch_movielens("ml-1m", tmp_path, base_url="http://127.0.0.1:9", timeout=2)


def test_archive_without_expected_folder(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    _publish(root, "ml-100k", _archive("something-else"))
    with pytest.raises(DownloadError, match="no top-level folder 'ml-100k'"):
        fetch_movielens("ml-100k", tmp_path / "data", base_url=url)


def test_unsafe_archive_is_refused(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.txt", "x")
    _publish(root, "ml-100k", buf.getvalue())
    with pytest.raises(DownloadError, match="unsafe path"):
        fetch_movielens("ml-100k", tmp_path / "data", base_url=url)
    assert not (tmp_path / "evil.txt").exists()


def test_parse_md5_forms() -> None:
    digest = "a" * 32
    assert parse_md5(f"MD5 (ml-1m.zip) = {digest}\n", "ml-1m.zip") == digest
    assert parse_md5(f"{digest.upper()}  ml-1m.zip\n", "ml-1m.zip") == digest
    with pytest.raises(DownloadError, match="no line"):
        parse_md5("<html>not found</html>", "ml-1m.zip")
    with pytest.raises(ValueError, match="name must be a plain archive name"):
        fetch_movielens("../x", Path("."))
