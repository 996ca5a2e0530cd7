"""Locate a dataset's CSV file: download it from the Hugging Face Hub or use a local path.

Either way the caller gets the file's path, SHA-256 and size, which go into the data
report and the model's lineage.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from .config import DatasetConfig

logger = logging.getLogger(__name__)

# Environment variable naming the Hub download cache (a Modal Volume on Modal).
DATASET_CACHE_ENV = "TUNEDECK_DATASET_CACHE"
_HASH_CHUNK_BYTES = 1024 * 1024


class DatasetLoadError(RuntimeError):
    """The dataset file could not be found or downloaded.

    `retryable` is True for network failures, where the same request may succeed later.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class DatasetFile:
    """A dataset file on local disk, with its SHA-256 (hex) and size in bytes."""

    path: Path
    sha256: str
    bytes: int


def load_dataset_file(dataset: DatasetConfig, cache_dir: str | Path | None = None) -> DatasetFile:
    """Return the dataset's local file, downloading it from the Hub when needed.

    `cache_dir` defaults to $TUNEDECK_DATASET_CACHE, then to huggingface_hub's own cache.
    """
    if dataset.source == "local":
        path = Path(dataset.path or "").expanduser()
        if not path.is_file():
            problem = "path is not a file" if path.exists() else "file not found"
            raise DatasetLoadError(
                f"local dataset {problem}: {path}. Set dataset.path to an existing CSV file."
            )
    else:
        path = _download(dataset, cache_dir or os.environ.get(DATASET_CACHE_ENV))

    digest, size = file_sha256(path)
    logger.info("dataset file %s: %d bytes, sha256 %s", path, size, digest)
    return DatasetFile(path=path, sha256=digest, bytes=size)


def file_sha256(path: Path) -> tuple[str, int]:
    """Hash a file in 1 MiB chunks; return the hex digest and the size in bytes."""
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _download(dataset: DatasetConfig, cache_dir: str | Path | None) -> Path:
    repo, file = dataset.repo, dataset.file
    revision = dataset.revision or "main"
    where = f"file {file!r} of Hugging Face dataset {repo!r} at revision {revision!r}"
    logger.info("downloading %s", where)

    try:
        local = hf_hub_download(
            repo_id=repo,
            filename=file,
            repo_type="dataset",
            revision=dataset.revision,
            token=os.environ.get("HF_TOKEN") or None,
            cache_dir=cache_dir,
        )
    except GatedRepoError as exc:
        raise DatasetLoadError(
            f"access to {where} was denied because the dataset is gated: accept its terms "
            "on the Hub and set HF_TOKEN to a token of that account"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise DatasetLoadError(
            f"dataset repo not found for {where}: check dataset.repo (owner/name), and for "
            "a private dataset set HF_TOKEN to a token with read access"
        ) from exc
    except RevisionNotFoundError as exc:
        raise DatasetLoadError(
            f"revision not found for {where}: set dataset.revision to an existing branch, "
            "tag or commit hash, or to null for main"
        ) from exc
    except LocalEntryNotFoundError as exc:
        # Raised when the Hub cannot be reached and the file is not cached yet.
        raise DatasetLoadError(
            f"could not download {where}: the Hub is unreachable and the file is not in the "
            f"cache {cache_dir or 'of huggingface_hub'}; retry when the network is back",
            retryable=True,
        ) from exc
    except EntryNotFoundError as exc:
        raise DatasetLoadError(
            f"{where} not found: check dataset.file against the repo's file list "
            "(paths are case-sensitive and include folders)"
        ) from exc
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise DatasetLoadError(
            f"downloading {where} failed with HTTP status {status}: {exc}",
            retryable=status is None or status >= 500 or status == 429,
        ) from exc
    except OSError as exc:
        raise DatasetLoadError(
            f"downloading {where} failed: {exc}; check the network and the cache folder",
            retryable=True,
        ) from exc
    return Path(local)
