import hashlib

import httpx2
import pytest
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from finetune import loading
from finetune.config import DatasetConfig
from finetune.loading import DatasetLoadError, load_dataset_file

REPO = "soniawmeyer/travel-conversations-finetuning"
FILE = "travel_QA_processed_with_topic.csv"
CONTENT = b"question,answer\nWhere?,Lisbon\n"


def hub_dataset(**overrides):
    fields = {"index": 0, "source": "huggingface", "repo": REPO, "file": FILE, "revision": "4f2c1e0", "train_split": 0.9}
    fields.update(overrides)
    return DatasetConfig(**fields)


def http_error(cls, status):
    # Building a response object sends no request; the Hub errors require one.
    response = httpx2.Response(status, request=httpx2.Request("GET", "https://huggingface.co/fake"))
    return cls(f"{status} fake Hub error", response=response)


class FakeHubDownload:
    """Fake of huggingface_hub.hf_hub_download: records calls, writes or raises."""

    def __init__(self, tmp_path, error=None):
        self.tmp_path = tmp_path
        self.error = error
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        target = self.tmp_path / "hub-cache" / kwargs["filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(CONTENT)
        return str(target)


def test_hub_download_pinned_revision(tmp_path, monkeypatch):
    fake = FakeHubDownload(tmp_path)
    monkeypatch.setattr(loading, "hf_hub_download", fake)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")

    result = load_dataset_file(hub_dataset(), cache_dir=tmp_path / "cache")

    assert fake.calls == [
        {
            "repo_id": REPO,
            "filename": FILE,
            "repo_type": "dataset",
            "revision": "4f2c1e0",
            "token": "hf_test_token",
            "cache_dir": tmp_path / "cache",
        }
    ]
    assert result.path == tmp_path / "hub-cache" / FILE
    assert result.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert result.bytes == len(CONTENT)


def test_hub_cache_and_token_defaults(tmp_path, monkeypatch):
    fake = FakeHubDownload(tmp_path)
    monkeypatch.setattr(loading, "hf_hub_download", fake)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("TUNEDECK_DATASET_CACHE", str(tmp_path / "env-cache"))

    load_dataset_file(hub_dataset(revision=None))

    assert fake.calls[0]["token"] is None
    assert fake.calls[0]["revision"] is None
    assert fake.calls[0]["cache_dir"] == str(tmp_path / "env-cache")


WHERE = f"file '{FILE}' of Hugging Face dataset '{REPO}' at revision '4f2c1e0'"


@pytest.mark.parametrize(
    ("error", "message", "retryable"),
    [
        (
            http_error(RemoteEntryNotFoundError, 404),
            f"{WHERE} not found: check dataset.file against the repo's file list "
            "(paths are case-sensitive and include folders)",
            False,
        ),
        (
            http_error(RepositoryNotFoundError, 404),
            f"dataset repo not found for {WHERE}: check dataset.repo (owner/name), and for "
            "a private dataset set HF_TOKEN to a token with read access",
            False,
        ),
        (
            http_error(GatedRepoError, 403),
            f"access to {WHERE} was denied because the dataset is gated: accept its terms "
            "on the Hub and set HF_TOKEN to a token of that account",
            False,
        ),
        (
            http_error(RevisionNotFoundError, 404),
            f"revision not found for {WHERE}: set dataset.revision to an existing branch, "
            "tag or commit hash, or to null for main",
            False,
        ),
        (
            http_error(HfHubHTTPError, 503),
            f"downloading {WHERE} failed with HTTP status 503: 503 fake Hub error",
            True,
        ),
        (
            LocalEntryNotFoundError("offline"),
            f"could not download {WHERE}: the Hub is unreachable and the file is not in the "
            "cache of huggingface_hub; retry when the network is back",
            True,
        ),
    ],
)
def test_hub_errors_explain_fix(tmp_path, monkeypatch, error, message, retryable):
    monkeypatch.setattr(loading, "hf_hub_download", FakeHubDownload(tmp_path, error))
    monkeypatch.delenv("TUNEDECK_DATASET_CACHE", raising=False)

    with pytest.raises(DatasetLoadError) as caught:
        load_dataset_file(hub_dataset())

    assert str(caught.value) == message
    assert caught.value.retryable is retryable


def test_local_file_hashed(tmp_path):
    path = tmp_path / "local.csv"
    content = b"x" * (3 * 1024 * 1024 + 7)
    path.write_bytes(content)

    result = load_dataset_file(DatasetConfig(index=0, source="local", path=str(path), train_split=0.5))

    assert result.path == path
    assert result.sha256 == hashlib.sha256(content).hexdigest()
    assert result.bytes == len(content)


def test_local_missing_or_folder(tmp_path):
    missing = DatasetConfig(index=0, source="local", path=str(tmp_path / "absent.csv"), train_split=0.5)
    folder = DatasetConfig(index=0, source="local", path=str(tmp_path), train_split=0.5)

    with pytest.raises(DatasetLoadError) as first:
        load_dataset_file(missing)
    with pytest.raises(DatasetLoadError) as second:
        load_dataset_file(folder)

    assert str(first.value) == (
        f"local dataset file not found: {tmp_path / 'absent.csv'}. "
        "Set dataset.path to an existing CSV file."
    )
    assert str(second.value) == (
        f"local dataset path is not a file: {tmp_path}. Set dataset.path to an existing CSV file."
    )
