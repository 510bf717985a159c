"""Download official MovieLens archives from GroupLens, verify their MD5 checksum, extract atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["GROUPLENS_URL", "DownloadError", "fetch_movielens", "parse_md5"]

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens"
_MD5_LINE = re.compile(r"^\s*MD5\s*\((?P<name>[^)]+)\)\s*=\s*(?P<hex>[0-9a-fA-F]{32})\s*$")
_MD5_SUM = re.compile(r"^\s*(?P<hex>[0-9a-fA-F]{32})(?:\s+\*?(?P<name>\S+))?\s*$")


class DownloadError(RuntimeError):
    """A dataset could not be downloaded or did not pass its checksum."""


def parse_md5(text: str, filename: str) -> str:
    """Extract the MD5 hex digest from a ``.md5`` file.

    Accepts the GroupLens (BSD) form ``MD5 (NAME.zip) = <hex>`` and the ``md5sum`` form ``<hex>  NAME.zip``.

    Args:
        text: the file's content.
        filename: the archive the checksum should be for.

    Returns:
        The lowercase hex digest.
    """
    for line in text.splitlines():
        m = _MD5_LINE.match(line) or _MD5_SUM.match(line)
        if m and (m.group("name") in (None, filename)):
            return m.group("hex").lower()
    raise DownloadError(
        f"checksum file for {filename} has no line 'MD5 ({filename}) = <32 hex digits>'; got {text[:200]!r}"
    )


def _get(url: str, timeout: float) -> urllib.request._UrlopenRet:  # type: ignore[name-defined]
    try:
        return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - https/http URLs only
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"{url} returned HTTP {exc.code} {exc.reason}; check the dataset name and base_url, or download "
            f"the archive by hand and unzip it into the data directory"
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DownloadError(
            f"could not reach {url} ({exc}); check your connection, or download the archive by hand and unzip "
            f"it into the data directory (--data-dir / AGENTREC_DATA_DIR)"
        ) from exc


def fetch_movielens(
    name: str,
    data_dir: str | Path,
    *,
    base_url: str = GROUPLENS_URL,
    timeout: float = 60.0,
    show_progress: bool = False,
) -> Path:
    """Download ``<base_url>/<name>.zip``, check it against ``<name>.zip.md5`` and extract it.

    The archive is extracted into a temporary folder inside ``data_dir`` and moved into place with one rename,
    so an interrupted download never leaves a half-written dataset folder behind.

    Args:
        name: archive name, e.g. ``"ml-latest-small"``; the archive must hold a top folder of that name.
        data_dir: where datasets live; the result is ``data_dir / name``.
        base_url: where the archives are served (GroupLens by default).
        timeout: seconds to wait for the server.
        show_progress: show a download progress bar.

    Returns:
        The extracted dataset folder.
    """
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"name must be a plain archive name like 'ml-latest-small', got {name!r}")
    data_dir = Path(data_dir)
    target = data_dir / name
    if target.is_dir():
        return target
    data_dir.mkdir(parents=True, exist_ok=True)
    zip_name = f"{name}.zip"
    url = f"{base_url.rstrip('/')}/{zip_name}"
    with _get(url + ".md5", timeout) as resp:
        expected = parse_md5(resp.read().decode("utf-8", errors="replace"), zip_name)
    logger.info("downloading %s", url)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=f".{name}.") as tmp:
        archive = Path(tmp) / zip_name
        md5 = hashlib.md5()  # noqa: S324 - GroupLens publishes MD5; it checks integrity, not authenticity
        with _get(url, timeout) as resp, open(archive, "wb") as fh:
            total = int(resp.headers.get("Content-Length") or 0) or None
            from tqdm.auto import tqdm

            with tqdm(total=total, unit="B", unit_scale=True, desc=zip_name, disable=not show_progress) as bar:
                while chunk := resp.read(1 << 20):
                    fh.write(chunk)
                    md5.update(chunk)
                    bar.update(len(chunk))
        got = md5.hexdigest()
        if got != expected:
            raise DownloadError(
                f"checksum mismatch for {url}: the .md5 file says {expected} but the download hashes to {got}; "
                f"the download is corrupt or incomplete, try again"
            )
        extract = Path(tmp) / "extract"
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    parts = Path(member).parts
                    if member.startswith(("/", "\\")) or ".." in parts:
                        raise DownloadError(f"{url} contains an unsafe path {member!r}; refusing to extract")
                zf.extractall(extract)
        except zipfile.BadZipFile as exc:
            raise DownloadError(f"{url} is not a valid zip archive ({exc})") from exc
        src = extract / name
        if not src.is_dir():
            raise DownloadError(f"{url} has no top-level folder {name!r}; found {sorted(os.listdir(extract))}")
        try:
            os.replace(src, target)
        except OSError:
            if not target.is_dir():  # another process may have finished first
                shutil.move(str(src), str(target))
    logger.info("extracted %s to %s", zip_name, target)
    return target
