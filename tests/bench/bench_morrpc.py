"""MOR-RPC codec throughput on one core: streamed chunks per second, provider side and consumer side.

Run: ``python3 tests/bench/bench_morrpc.py`` (prints a table, writes tests/bench/results/morrpc.json).

Provider path per chunk: Go-JSON encode of the item → ECIES encrypt → sign → envelope bytes.
Consumer path per chunk: framing decode → parse → verify → ECIES decrypt.
Each stage is also timed alone so the cost split is visible; ratios matter more than absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.router.morrpc import ecies, envelope, gojson, prompt, signing  # noqa: E402
from app.router.morrpc.framing import MessageDecoder  # noqa: E402
from app.router.morrpc.messages import SessionPromptRes  # noqa: E402
from app.wallet.signer import KeySigner  # noqa: E402
from tests.bench.bench_env import write_result  # noqa: E402

# anvil's published dev keys: throwaway.
CONSUMER = KeySigner.from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
PROVIDER = KeySigner.from_hex("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")

# A typical ~200-byte OpenAI streaming chunk, as a backend item before json.Marshal.
CHUNK: dict[str, Any] = {
    "id": "chatcmpl-9f3c2a",
    "object": "chat.completion.chunk",
    "created": 1717171717,
    "model": "llama-3.1-8b-instruct",
    "choices": [{"index": 0, "delta": {"content": " the quick brown fox"}, "finish_reason": None}],
}


def _rate(fn: Callable[[], object], rounds: int = 5, seconds: float = 0.4) -> float:
    """Calls per second of ``fn``: the best of ``rounds`` timed rounds (the machine may be shared)."""
    for _ in range(50):
        fn()
    best = 0.0
    for _ in range(rounds):
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(50):
                fn()
            count += 50
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return best


def main(rounds: int = 5, seconds: float = 0.4) -> None:
    item = gojson.encode_value(CHUNK)
    sealed = prompt.seal_prompt_response(PROVIDER, CONSUMER.public_key, item, 1717171717171)
    wire = envelope.encode_result("a1b2c3d4", sealed)

    def provider_path() -> bytes:
        payload = gojson.encode_value(CHUNK)
        return envelope.encode_result(
            "a1b2c3d4", prompt.seal_prompt_response(PROVIDER, CONSUMER.public_key, payload, 1)
        )

    def consumer_path() -> bytes:
        [obj] = MessageDecoder().feed(wire)
        response = envelope.parse_response(obj)
        return prompt.open_prompt_response(
            SessionPromptRes.from_obj(response.result, "result"), CONSUMER, PROVIDER.public_key
        )

    ciphertext = ecies.encrypt(CONSUMER.public_key, item)
    rows = [
        ("provider: encode+encrypt+sign+envelope", provider_path),
        ("consumer: frame+parse+verify+decrypt", consumer_path),
        ("  gojson encode item", lambda: gojson.encode_value(CHUNK)),
        ("  stdlib json.dumps item (reference)", lambda: json.dumps(CHUNK, separators=(",", ":"))),
        ("  ECIES encrypt", lambda: ecies.encrypt(CONSUMER.public_key, item)),
        ("  ECIES decrypt", lambda: ecies.decrypt(CONSUMER, ciphertext)),
        (
            "  sign SessionPromptRes",
            lambda: signing.sign(SessionPromptRes(message=sealed.message, timestamp=1), PROVIDER),
        ),
        ("  verify SessionPromptRes", lambda: signing.verify(sealed, PROVIDER.public_key)),
        ("  framing decode one response", lambda: MessageDecoder().feed(wire)),
    ]
    results = {name.strip(): _rate(fn, rounds, seconds) for name, fn in rows}
    print(f"MOR-RPC codec, one core, {len(item)}-byte chunk item, {len(wire)}-byte wire message")
    print(f"{'path':44} {'per second':>12} {'µs each':>10}")
    for name, _ in rows:
        rate = results[name.strip()]
        print(f"{name:44} {rate:12,.0f} {1e6 / rate:10.1f}")
    report = {
        "benchmark": "morrpc_codec",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "item_bytes": len(item),
        "wire_bytes": len(wire),
        "per_second": results,
    }
    print(f"written: {write_result('morrpc', report)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per path, best kept (default 5)")
    parser.add_argument("--seconds", type=float, default=0.4, help="length of each round (default 0.4)")
    args = parser.parse_args()
    main(args.rounds, args.seconds)
