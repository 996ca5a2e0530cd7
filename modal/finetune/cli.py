"""Command line of the pipeline: `python -m finetune <command>`.

stdout carries only JSON event lines. At start-up the real stdout moves to a private file
descriptor for the event sink and file descriptor 1 is pointed at stderr, so prints from
libraries (and from C code) land in stderr instead.

Exit codes: 0 when the stage succeeded, 1 when it failed or the input is invalid, 130
when it was cancelled by SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Sequence

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CANCELLED = 130
CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "schema" / "contracts"

logger = logging.getLogger("finetune.cli")


def _claim_stdout_for_events():
    """Return a text stream on the original stdout and send fd 1 to stderr."""
    sys.stdout.flush()
    events_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")


def _setup_logging() -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def _install_cancel_handlers(cancel_event: threading.Event) -> None:
    def request_cancel(signum, _frame):
        name = signal.Signals(signum).name
        if cancel_event.is_set():
            raise KeyboardInterrupt(f"second signal {name}")
        cancel_event.set()
        # No logging here: the handler can run while the main thread holds the event
        # emitter's lock, and a log event would wait for that lock forever.
        os.write(2, f"received {name}: stopping at the next step boundary\n".encode())

    signal.signal(signal.SIGTERM, request_cancel)
    signal.signal(signal.SIGINT, request_cancel)


def _exit_code(result: dict) -> int:
    return {"SUCCEEDED": EXIT_OK, "CANCELLED": EXIT_CANCELLED}.get(result["status"], EXIT_FAILED)


def run_requests(requests, cancel_event: threading.Event, events_stream) -> int:
    """Run stage requests in order, stopping at the first that does not succeed."""
    from .events import EventEmitter, StdoutSink
    from .stages import run_stage

    code = EXIT_OK
    for request in requests:
        emitter = EventEmitter(request, StdoutSink(events_stream))
        try:
            result = run_stage(request, emitter, cancel_event)
        finally:
            emitter.close()
        code = _exit_code(result)
        if code != EXIT_OK:
            break
    return code


def command_stage(args) -> int:
    from .config import ConfigError, StageRequest

    events_stream = _claim_stdout_for_events()
    _setup_logging()
    try:
        request = StageRequest.load(args.request)
    except ConfigError as exc:
        logger.error("%s", exc)
        return EXIT_FAILED
    cancel_event = threading.Event()
    _install_cancel_handlers(cancel_event)
    return run_requests([request], cancel_event, events_stream)


def command_run(args) -> int:
    from .config import ConfigError, JobConfig

    events_stream = _claim_stdout_for_events()
    _setup_logging()
    try:
        job = JobConfig.load(args.config)
    except ConfigError as exc:
        logger.error("%s", exc)
        return EXIT_FAILED
    cancel_event = threading.Event()
    _install_cancel_handlers(cancel_event)
    return run_requests(job.stage_requests(), cancel_event, events_stream)


def command_build_tiny_model(args) -> int:
    from .tiny_model import build_tiny_model

    _setup_logging()
    folder = build_tiny_model(args.out, force=args.force)
    print(folder)
    return EXIT_OK


def command_serve(args) -> int:
    from .serve import serve_forever

    _setup_logging()
    serve_forever(args.model, args.port, host=args.host)
    return EXIT_OK


def command_verify(args) -> int:
    from .verify import verify

    _setup_logging()
    result = verify(args.merged, args.base_model)
    print(result.to_json())
    return EXIT_OK if result.deployable else EXIT_FAILED


def command_generate(args) -> int:
    import json

    from . import completion

    _setup_logging()
    model, tokenizer = completion.load(args.model)
    reply = completion.generate(model, tokenizer, args.prompt, args.reasoning_effort, args.max_new_tokens)
    print(json.dumps({
        "answer": reply.answer,
        "reasoning": reply.reasoning,
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
    }))
    return EXIT_OK


def validate_request_file(path: str | Path) -> list[str]:
    """Return the problems of a stage request file (empty when valid).

    Checks the JSON Schema contract when the repository's schema folder is present, then
    the pipeline's own rules (for example warmup_steps below max_steps).
    """
    from .config import ConfigError, StageRequest

    problems: list[str] = []
    schema_path = CONTRACTS_DIR / "stage-request.schema.json"
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"cannot read {path} as JSON: {exc}"]

    if schema_path.is_file():
        import jsonschema

        validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
            where = ".".join(str(part) for part in error.path) or "(request)"
            problems.append(f"{where}: {error.message}")
    try:
        StageRequest.load(path)
    except ConfigError as exc:
        problems.extend(str(exc).splitlines()[1:] or [str(exc)])
    return problems


def command_validate_request(args) -> int:
    problems = validate_request_file(args.file)
    if problems:
        print(f"invalid stage request {args.file}:", file=sys.stderr)
        for problem in dict.fromkeys(problems):
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.file}: valid stage request")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m finetune", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    stage = commands.add_parser("stage", help="run one stage request; events go to stdout")
    stage.add_argument("--request", required=True, help="stage request JSON file")
    stage.set_defaults(handler=command_stage)

    run = commands.add_parser("run", help="run a whole job file: every dataset, then the merge")
    run.add_argument("--config", required=True, help="job JSON file")
    run.set_defaults(handler=command_run)

    build = commands.add_parser("build-tiny-model", help="build the tiny CPU test model")
    build.add_argument("--out", default=None, help="output folder (default: the model cache)")
    build.add_argument("--force", action="store_true", help="rebuild even if a build exists")
    build.set_defaults(handler=command_build_tiny_model)

    serve = commands.add_parser("serve", help="serve a merged model with an OpenAI-style API")
    serve.add_argument("--model", required=True, help="merged model folder")
    serve.add_argument("--port", required=True, type=int, help="TCP port to listen on")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.set_defaults(handler=command_serve)

    check = commands.add_parser("verify", help="run the merge verification gate; prints a JSON verdict")
    check.add_argument("--merged", required=True, help="merged model folder")
    check.add_argument("--base-model", required=True, help="base model name or folder to compare with")
    check.set_defaults(handler=command_verify)

    generate = commands.add_parser("generate", help="answer one prompt with a model; prints JSON")
    generate.add_argument("--model", required=True, help="model name or folder")
    generate.add_argument("--prompt", required=True, help="user message")
    generate.add_argument("--reasoning-effort", default="low", choices=["low", "medium", "high"])
    generate.add_argument("--max-new-tokens", type=int, default=64, help="tokens to generate (default 64)")
    generate.set_defaults(handler=command_generate)

    validate = commands.add_parser("validate-request", help="check a stage request file")
    validate.add_argument("file", help="stage request JSON file")
    validate.set_defaults(handler=command_validate_request)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        logger.error("interrupted")
        return EXIT_CANCELLED
