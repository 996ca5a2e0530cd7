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

    def put(self, item, block=True, timeout=None, *, partition=None):
        self.partitions.setdefault(partition, []).append(item)


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


def test_deployment_functions(app_module):
    verify = app_module.verify_merged.info()
    generate = app_module.generate.info()
    serve = app_module.serve_model.info()

    assert verify.gpus == [("H100", 1)]
    assert generate.gpus == [("H100", 1)]
    assert serve.gpus == [("H100", 1)]
    assert verify.timeout == 60 * 60
    assert generate.timeout == 30 * 60
    assert serve.timeout == 24 * 60 * 60
    assert set(verify.volumes) == {"/models", "/datasets", "/checkpoints"}
    assert set(generate.volumes) == {"/models", "/datasets", "/checkpoints"}
    assert {path: mount.name for path, mount in serve.volumes.items()} == {
        "/checkpoints": "tunedeck-checkpoints",
        "/models": "tunedeck-models",
    }
    for info in (verify, generate, serve):
        assert info.secrets == ["modal.Secret.from_name('huggingface')"]


def test_serve_command_caps_concurrent_sequences(app_module):
    command = app_module.serve_command("/checkpoints/jobs/j/merged", 12)

    assert command[:3] == ["vllm", "serve", "/checkpoints/jobs/j/merged"]
    assert command[command.index("--port") + 1] == str(app_module.VLLM_PORT)
    assert command[-2:] == ["--max-num-seqs", "12"]


def test_merged_path_must_be_in_checkpoints_volume(app_module):
    app_module.check_merged_path("/checkpoints/jobs/job_1/merged")

    with pytest.raises(ValueError, match="merged_path must be inside /checkpoints"):
        app_module.check_merged_path("/models/merged")


METRICS = """# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="merged"} %d.0
vllm:num_requests_waiting{engine="0",model_name="merged"} %d.0
vllm:request_success_total{engine="0",finished_reason="stop",model_name="merged"} %d.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="merged"} 2.0
"""


def test_parse_request_counts(app_module):
    assert app_module.parse_request_counts(METRICS % (1, 3, 5)) == (4, 7)
    assert app_module.parse_request_counts(METRICS % (0, 0, 0)) == (0, 2)
    assert app_module.parse_request_counts("vllm:num_requests_running 0.0\n") is None
    assert app_module.parse_request_counts("") is None


def test_idle_tracker(app_module):
    tracker = app_module.IdleTracker(idle_timeout=60, now=0)

    assert tracker.observe((0, 5), now=30) is False
    assert tracker.observe((0, 6), now=50) is False  # a request finished between polls
    assert tracker.observe((0, 6), now=100) is False
    assert tracker.observe((0, 6), now=110) is True
    assert tracker.observe((2, 6), now=120) is False
    assert tracker.observe(None, now=500) is False  # unreadable metrics count as activity
    assert tracker.observe((0, 6), now=559) is False
    assert tracker.observe((0, 6), now=560) is True


FAKE_VLLM = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, exit_after = int(sys.argv[1]), int(sys.argv[2])
served = 0

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        global served
        served += 1
        if self.path == "/health":
            body = b"ok"
        elif self.path == "/metrics":
            body = (
                "vllm:num_requests_running 0.0\nvllm:num_requests_waiting 0.0\n"
                "vllm:request_success_total 0.0\n"
            ).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = HTTPServer(("127.0.0.1", port), Handler)
while exit_after == 0 or served < exit_after:
    server.handle_request()
sys.exit(3)
"""


class FakeTunnel:
    url = "https://fake-tunnel.modal.test"


@pytest.fixture
def serving(app_module, monkeypatch, tmp_path):
    """Run _serve against a small HTTP server in place of vLLM, with fakes for Modal's side."""
    import contextlib
    import socket

    queue = FakeQueue()
    merged = tmp_path / "jobs" / "job_1" / "merged"
    merged.mkdir(parents=True)
    (merged / "config.json").write_text("{}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    processes = []
    real_popen = subprocess.Popen

    def popen(command, exit_after=0):
        assert command[-2:] == ["--max-num-seqs", "4"]
        process = real_popen([sys.executable, "-c", FAKE_VLLM, str(port), str(exit_after)])
        processes.append(process)
        return process

    @contextlib.contextmanager
    def forward(forwarded_port):
        assert forwarded_port == port
        yield FakeTunnel()

    monkeypatch.setattr(app_module, "CHECKPOINTS_DIR", str(tmp_path))
    monkeypatch.setattr(app_module, "checkpoints_volume", FakeVolume())
    monkeypatch.setattr(app_module, "VLLM_PORT", port)
    monkeypatch.setattr(app_module, "SERVE_POLL_SECONDS", 0.05)
    monkeypatch.setattr(app_module, "HEALTH_POLL_SECONDS", 0.05)
    monkeypatch.setattr(app_module.modal, "forward", forward)
    monkeypatch.setattr(app_module.modal.Queue, "from_name", lambda name, **_: queue)
    request = {"deployment_id": "dep_1", "merged_path": str(merged), "max_concurrent_requests": 4, "idle_timeout_seconds": 0.3}
    yield app_module, request, queue, processes, popen
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_puts_url_and_stops_when_idle(serving, monkeypatch):
    app_module, request, queue, processes, popen = serving
    monkeypatch.setattr(app_module.subprocess, "Popen", popen)

    result = app_module._serve(request)

    assert result == {"deployment_id": "dep_1", "stopped": "idle", "message": "stopped after 0.3 s without requests"}
    assert list(queue.partitions) == ["deploy-dep_1"]
    assert [json.loads(item) for item in queue.partitions["deploy-dep_1"]] == [
        {"deployment_id": "dep_1", "url": "https://fake-tunnel.modal.test"}
    ]
    assert processes[0].poll() is not None  # the server process was stopped


def test_serve_raises_when_vllm_exits(serving, monkeypatch):
    app_module, request, queue, processes, popen = serving
    # The fake server exits after three requests: the health check and two metrics reads.
    monkeypatch.setattr(app_module.subprocess, "Popen", lambda command: popen(command, exit_after=3))
    request["idle_timeout_seconds"] = 3600

    with pytest.raises(RuntimeError, match="vLLM exited with code 3 while serving deployment dep_1"):
        app_module._serve(request)
    assert "deploy-dep_1" in queue.partitions


def test_serve_rejects_missing_weights(serving, monkeypatch, tmp_path):
    app_module, request, queue, processes, popen = serving
    monkeypatch.setattr(app_module.subprocess, "Popen", popen)
    request["merged_path"] = str(tmp_path / "jobs" / "job_2" / "merged")

    with pytest.raises(FileNotFoundError, match="config.json is missing"):
        app_module._serve(request)
    assert processes == []
    assert queue.partitions == {}


def test_verify_returns_gate_result_dict(app_module, monkeypatch, tmp_path, tiny_model_dir):
    import shutil

    volume = FakeVolume()
    merged = tmp_path / "jobs" / "job_1" / "merged"
    shutil.copytree(tiny_model_dir, merged)
    monkeypatch.setattr(app_module, "CHECKPOINTS_DIR", str(tmp_path))
    monkeypatch.setattr(app_module, "checkpoints_volume", volume)
    monkeypatch.setattr(app_module, "models_volume", FakeVolume())

    result = app_module._verify({"merged_path": str(merged), "base_model": str(tiny_model_dir)})

    # The copy equals its base, so the gate runs every check and rejects it at the smoke step.
    assert volume.reloads == 1
    assert result["deployable"] is False
    assert "adapter had no effect" in result["reason"]
    assert [check["name"] for check in result["checks"]] == ["files", "quantization", "load", "smoke"]
    assert json.loads(json.dumps(result)) == result


def test_generate_returns_answer_and_token_counts(app_module, monkeypatch, tiny_model_dir):
    monkeypatch.setattr(app_module, "models_volume", FakeVolume())
    monkeypatch.setattr(app_module, "_generation_models", {})

    reply = app_module._generate({"model": str(tiny_model_dir), "prompt": "Lisbon or Porto?", "reasoning_effort": "low"})

    assert set(reply) == {"answer", "reasoning", "prompt_tokens", "completion_tokens"}
    assert isinstance(reply["answer"], str)
    assert reply["prompt_tokens"] > 0
    assert 0 < reply["completion_tokens"] <= app_module.GENERATE_MAX_NEW_TOKENS
    with pytest.raises(ValueError, match="reasoning_effort must be one of"):
        app_module._generate({"model": str(tiny_model_dir), "prompt": "x", "reasoning_effort": "extreme"})
    with pytest.raises(ValueError, match="prompt must be a non-empty string"):
        app_module._generate({"model": str(tiny_model_dir), "prompt": " "})
