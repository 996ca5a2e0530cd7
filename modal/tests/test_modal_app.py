"""The Modal app imports offline and declares the functions the control plane calls."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

MODAL_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app_module():
    import app

    return app


def test_app_imports_without_heavy_packages():
    code = (
        "import sys, app; "
        "print(app.app.name, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=MODAL_DIR, capture_output=True, text=True, timeout=60
    )

    assert process.returncode == 0, process.stderr
    assert process.stdout.split() == ["tunedeck", "False", "False"]


def test_training_functions_per_gpu(app_module):
    for gpu, name in app_module.GPU_FUNCTIONS.items():
        info = getattr(app_module, name).info()
        assert info.gpus == [(gpu, 1)], name
        assert info.timeout == 24 * 60 * 60, name
        assert info.max_retries == 3, name
        assert set(info.volumes) == {"/models", "/datasets", "/checkpoints"}, name
        assert info.secrets == ["modal.Secret.from_name('huggingface')"], name


def test_volume_names(app_module):
    info = app_module.run_dataset.info()

    names = {path: mount.name for path, mount in info.volumes.items()}
    assert names == {
        "/models": "tunedeck-models",
        "/datasets": "tunedeck-datasets",
        "/checkpoints": "tunedeck-checkpoints",
    }


def test_merge_and_prepare_functions(app_module):
    merge = app_module.merge.info()
    prepare = app_module.prepare_dataset.info()

    assert merge.gpus == [("H100", 1)]
    assert 0 < merge.timeout <= 24 * 60 * 60
    assert merge.max_retries == 1
    assert "/checkpoints" in merge.volumes
    assert prepare.gpus == []
    assert 0 < prepare.timeout <= 24 * 60 * 60
    assert set(prepare.volumes) == {"/datasets"}


def test_output_dir_must_be_in_checkpoints_volume(app_module):
    app_module.check_output_dir("/checkpoints/jobs/job_1/runs/run_1")

    with pytest.raises(ValueError, match="must be inside /checkpoints"):
        app_module.check_output_dir("/tmp/run_1")
    with pytest.raises(ValueError, match="must be inside /checkpoints"):
        app_module.check_output_dir("/checkpoints/../tmp")


class FakeQueue:
    """Stands in for modal.Queue: keeps put_many items per partition."""

    def __init__(self):
        self.partitions = {}

    def put_many(self, items, block=True, timeout=None, *, partition=None):
        self.partitions.setdefault(partition, []).extend(items)


class FakeVolume:
    """Stands in for modal.Volume: counts reloads and commits."""

    def __init__(self):
        self.reloads = 0
        self.commits = 0

    def reload(self):
        self.reloads += 1

    def commit(self):
        self.commits += 1


def test_run_sends_events_to_queue(app_module, monkeypatch, tmp_path, dataset_request, check_events):
    queue = FakeQueue()
    volume = FakeVolume()
    monkeypatch.setattr(app_module, "CHECKPOINTS_DIR", str(tmp_path))
    monkeypatch.setattr(app_module, "checkpoints_volume", volume)
    monkeypatch.setattr(app_module.modal.Queue, "from_name", lambda name, **_: queue)
    request = dataset_request()
    request["output_dir"] = str(tmp_path / "jobs" / "job_example" / "runs" / "run_0")

    result = app_module._run(request)

    assert result["status"] == "SUCCEEDED"
    assert list(queue.partitions) == ["job_example"]
    events = [json.loads(item) for item in queue.partitions["job_example"]]
    check_events(events)
    assert events[-1]["type"] == "result"
    assert volume.reloads == 1
    # One commit per checkpoint (steps 2 and 4) plus the final one.
    assert volume.commits == 3
