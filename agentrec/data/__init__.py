"""Data layer: loaders, downloads, preparation (implicit, dedup, k-core) and splits.

``load_dataset(name)`` returns a :class:`Dataset`; ``prepare_dataset(name, split=...)`` also transforms and
splits it and persists the result as Parquet under the artifacts directory.
"""

from agentrec.data._io import DataFormatError, DataWarning
from agentrec.data.base import Dataset, catalog_fingerprint, fingerprint
from agentrec.data.download import DownloadError, fetch_movielens
from agentrec.data.prepare import PreparedDataset, prepare_dataset
from agentrec.data.registry import DATASETS, DatasetInfo, load_dataset
from agentrec.data.spec import DatasetSpec, register_dataset, registered_datasets, resolve_dataset

__all__ = [
    "DATASETS",
    "DataFormatError",
    "DataWarning",
    "Dataset",
    "DatasetInfo",
    "DatasetSpec",
    "DownloadError",
    "PreparedDataset",
    "catalog_fingerprint",
    "fetch_movielens",
    "fingerprint",
    "load_dataset",
    "prepare_dataset",
    "register_dataset",
    "registered_datasets",
    "resolve_dataset",
]
