"""The local OpenAI-compatible server, on 127.0.0.1 and a free port."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from finetune.serve import make_server, vllm_command


@pytest.fixture(scope="module")
def server_url(tiny_model_dir):
    server = make_server(str(tiny_model_dir), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()


def request(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health(server_url):
    status, body = request(server_url + "/health")

    assert status == 200
    assert body["status"] == "ok"


def test_chat_completion(server_url):
    status, body = request(
        server_url + "/v1/chat/completions",
        {"model": "tiny", "messages": [{"role": "user", "content": "Where to stay in Rome?"}], "max_tokens": 8},
    )

    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == "tiny"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str)
    assert choice["finish_reason"] in ("stop", "length")
    assert 1 <= body["usage"]["completion_tokens"] <= 8
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"messages": []}, "non-empty list"),
        ({"messages": [{"role": "assistant", "content": "Hi"}]}, "ending with a user message"),
        ({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 0}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "Hi"}], "temperature": 5}, "temperature"),
    ],
)
def test_invalid_requests_get_400(server_url, body, fragment):
    status, response = request(server_url + "/v1/chat/completions", body)

    assert status == 400
    assert fragment in response["error"]["message"]


def test_unknown_route_gets_404(server_url):
    status, response = request(server_url + "/v1/nothing")

    assert status == 404
    assert response["error"]["type"] == "not_found"


def test_vllm_command_serves_merged_folder():
    command = vllm_command("/checkpoints/job_1/merged/merged", port=8000, served_name="job_1")

    assert command[:3] == ["vllm", "serve", "/checkpoints/job_1/merged/merged"]
    assert command[command.index("--served-model-name") + 1] == "job_1"
    assert command[command.index("--port") + 1] == "8000"
