"""A small OpenAI-compatible HTTP server for a merged model, for local deployments.

Endpoints: `GET /health` and `POST /v1/chat/completions` (non-streaming; messages,
max_tokens, temperature). Generation runs one request at a time, behind a lock. On Modal, merged weights are served with vLLM instead; `vllm_command`
returns that command line.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import harmony
from .completion import analysis_text

logger = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 128
MAX_TOKENS_LIMIT = 2048
MAX_BODY_BYTES = 1 << 20
STOP_TOKENS = ("<|return|>", "<|end|>", "<|call|>")


class RequestError(ValueError):
    """A client error, returned as HTTP 400 with an OpenAI-style error body."""


def vllm_command(model_dir: str, port: int = 8000, served_name: str | None = None) -> list[str]:
    """Return the vLLM command line that serves merged weights with an OpenAI API on Modal."""
    return [
        "vllm",
        "serve",
        model_dir,
        "--served-model-name",
        served_name or Path(model_dir).name,
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--dtype",
        "bfloat16",
        "--max-model-len",
        "8192",
    ]


class ChatModel:
    """A causal LM and its tokenizer, generating one chat completion at a time."""

    def __init__(self, model_dir: str):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = Path(model_dir).name
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        self.model.eval()
        self._lock = threading.Lock()

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        import torch

        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError("messages must be a non-empty list of {role, content} objects")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("content"), str):
                raise RequestError(f"messages[{index}] must be an object with a string content")
        roles = [message.get("role") for message in messages]
        dialogue = roles[1:] if roles[0] == "system" else roles
        if not dialogue or dialogue[-1] != "user" or set(dialogue) - {"user", "assistant"}:
            raise RequestError(
                "messages must be an optional first system message, then user and assistant "
                f"messages ending with a user message; got roles {roles}"
            )
        max_tokens = body.get("max_tokens", DEFAULT_MAX_TOKENS)
        if not isinstance(max_tokens, int) or not 1 <= max_tokens <= MAX_TOKENS_LIMIT:
            raise RequestError(f"max_tokens must be an integer from 1 to {MAX_TOKENS_LIMIT}, got {max_tokens!r}")
        temperature = body.get("temperature", 0)
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise RequestError(f"temperature must be a number from 0 to 2, got {temperature!r}")
        effort = body.get("reasoning_effort", "low")
        if effort not in harmony.REASONING_EFFORTS:
            raise RequestError(f"reasoning_effort must be low, medium or high, got {effort!r}")

        prompt = harmony.render_prompt(messages, effort)
        input_ids = self.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with self._lock, torch.no_grad():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=max_tokens,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new_tokens = output[0, input_ids.shape[1]:]
        generated = self.tokenizer.decode(new_tokens, skip_special_tokens=False)
        finished = any(stop in generated for stop in STOP_TOKENS)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.name,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": harmony.final_answer(generated),
                        # The analysis channel, named as vLLM names it for gpt-oss; null when absent.
                        "reasoning_content": analysis_text(generated),
                    },
                    "finish_reason": "stop" if finished else "length",
                }
            ],
            "usage": {
                "prompt_tokens": int(input_ids.shape[1]),
                "completion_tokens": int(new_tokens.shape[0]),
                "total_tokens": int(input_ids.shape[1] + new_tokens.shape[0]),
            },
        }


def make_handler(chat_model: ChatModel):
    class Handler(BaseHTTPRequestHandler):
        server_version = "tunedeck-serve"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            logger.info("%s %s", self.address_string(), format % args)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, kind: str) -> None:
            self._send(status, {"error": {"message": message, "type": kind}})

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            if self.path == "/health":
                self._send(200, {"status": "ok", "model": chat_model.name})
            elif self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": chat_model.name, "object": "model"}]})
            else:
                self._error(404, f"no route for GET {self.path}", "not_found")

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            if self.path != "/v1/chat/completions":
                self._error(404, f"no route for POST {self.path}", "not_found")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY_BYTES:
                self._error(400, f"request body must be 1 to {MAX_BODY_BYTES} bytes of JSON", "invalid_request_error")
                return
            try:
                body = json.loads(self.rfile.read(length))
                if not isinstance(body, dict):
                    raise RequestError("request body must be a JSON object")
                self._send(200, chat_model.complete(body))
            except (RequestError, json.JSONDecodeError) as exc:
                self._error(400, str(exc), "invalid_request_error")
            except Exception as exc:  # noqa: BLE001 - answer 500 and keep serving
                logger.exception("chat completion failed")
                self._error(500, f"generation failed: {type(exc).__name__}", "server_error")

    return Handler


def make_server(model_dir: str, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Load the model and bind the server (port 0 picks a free port); call serve_forever()."""
    server = ThreadingHTTPServer((host, port), make_handler(ChatModel(model_dir)))
    return server


def serve_forever(model_dir: str, port: int, host: str = "127.0.0.1") -> None:
    server = make_server(model_dir, port, host)
    bound_host, bound_port = server.server_address[:2]
    logger.info("serving %s on http://%s:%d", model_dir, bound_host, bound_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("stopping the server")
    finally:
        server.server_close()
