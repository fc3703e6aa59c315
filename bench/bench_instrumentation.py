"""Per-call overhead of each instrumentor: the same call, bare vs instrumented, in one process.

Every case runs its call *n* times uninstrumented, then *n* times instrumented with records going
to an embedded chDB store (the real default), and repeats that pair; the best time per call of each
side is kept. The export threads run meanwhile, so their GIL share is part of the wall-time
overhead; the caller-thread CPU column (``time.thread_time``) is the cost on the caller alone.
The final flush (everything exported) is timed separately.

Run: python bench/bench_instrumentation.py [--n 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import otel_audit


def _per_call(call: Callable[[], Any], n: int) -> tuple[float, float]:
    """Wall time and caller-thread CPU time per call."""
    start, cpu = time.perf_counter(), time.thread_time()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n, (time.thread_time() - cpu) / n


def _measure(
    call: Callable[[], Any], instrumentor: Any, n: int, repeat: int, **options: Any
) -> tuple[float, float, float, float]:
    bare, audited = [], []
    for _ in range(repeat):
        bare.append(_per_call(call, n))
        instrumentor.instrument(**options)
        try:
            audited.append(_per_call(call, n))
        finally:
            instrumentor.uninstrument()
    return min(b[0] for b in bare), min(a[0] for a in audited), min(b[1] for b in bare), min(a[1] for a in audited)


class _Chat(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = json.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
    ).encode()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@contextmanager
def _chat_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _cases(n: int) -> Iterator[tuple[str, Callable[[], Any], Any, int]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from otel_audit.instrumentation.sklearn import SklearnInstrumentor

    rng = np.random.RandomState(0)
    features = rng.rand(500, 20)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(features, features[:, 0] > 0.5)
    one, hundred = features[:1], features[:100]
    yield "sklearn pipeline.predict, 1 row", lambda: pipeline.predict(one), SklearnInstrumentor(), n
    yield "sklearn pipeline.predict, 100 rows", lambda: pipeline.predict(hundred), SklearnInstrumentor(), n

    import torch

    from otel_audit.instrumentation.torch import TorchInstrumentor

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2)).eval()
    x1, x64 = torch.rand(1, 20), torch.rand(64, 20)

    def infer(x: torch.Tensor) -> Any:
        with torch.no_grad():
            return mlp(x)

    yield "torch MLP, batch 1", lambda: infer(x1), TorchInstrumentor(), n
    yield "torch MLP, batch 64", lambda: infer(x64), TorchInstrumentor(), n

    import transformers
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    from otel_audit.instrumentation.transformers import TransformersInstrumentor

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "great", "product", "arrived", "broken"]
    folder = Path(tempfile.mkdtemp())
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    classify = transformers.pipeline(
        "text-classification",
        model=BertForSequenceClassification(config).eval(),
        tokenizer=BertTokenizer(vocab_file=str(folder / "vocab.txt")),
        device="cpu",
    )
    yield (
        "transformers tiny BERT pipeline, 1 text",
        lambda: classify("great product"),
        TransformersInstrumentor(),
        n // 10,
    )

    import fastapi
    from fastapi.testclient import TestClient

    from otel_audit.instrumentation.asgi import AsgiInstrumentor

    def app() -> TestClient:
        api = fastapi.FastAPI()

        @api.post("/predict")
        def predict(payload: dict[str, Any]) -> dict[str, Any]:
            return {"label": "ok"}

        return TestClient(api)

    class _Asgi:
        """Instrumenting affects apps built afterwards, so each side builds its own client."""

        def __init__(self) -> None:
            self.client = app()

        def instrument(self, **options: Any) -> None:
            AsgiInstrumentor().instrument(**options)
            self.client = app()

        def uninstrument(self) -> None:
            AsgiInstrumentor().uninstrument()
            self.client = app()

    asgi = _Asgi()
    yield "FastAPI POST via TestClient", lambda: asgi.client.post("/predict", json={"a": 1}), asgi, n // 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        otel_audit.configure(store=f"chdb://{tmp}/store", service_name="bench")
        for name, call, instrumentor, count in _cases(args.n):
            call()
            rows.append((name, count, *_measure(call, instrumentor, count, args.repeat)))
        import openai

        from otel_audit.instrumentation.openai import OpenAIInstrumentor

        with _chat_server() as url:
            client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0)
            messages = [{"role": "user", "content": "hi"}]

            def chat() -> Any:
                return client.chat.completions.create(model="m", messages=messages)

            chat()
            count = args.n // 10
            measured = _measure(chat, OpenAIInstrumentor(), count, args.repeat)
            rows.append(("openai chat.completions (loopback server)", count, *measured))
        start = time.perf_counter()
        otel_audit.flush()
        flush_s = time.perf_counter() - start
        otel_audit.shutdown()
    print(f"{'case':45} {'n':>5} {'bare µs':>9} {'audited µs':>10} {'+µs wall':>9} {'ratio':>6} {'+µs caller CPU':>15}")
    for name, count, bare, audited, bare_cpu, audited_cpu in rows:
        print(
            f"{name:45} {count:>5} {bare * 1e6:>9.1f} {audited * 1e6:>10.1f} "
            f"{(audited - bare) * 1e6:>9.1f} {audited / bare:>6.2f} {(audited_cpu - bare_cpu) * 1e6:>15.1f}"
        )
    print(f"final flush to chDB: {flush_s:.2f} s; dropped: {otel_audit.stats().get('dropped', 0)}")


if __name__ == "__main__":
    main()
