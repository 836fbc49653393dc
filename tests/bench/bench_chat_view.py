"""Benchmark: a 1,000 tokens/s stream into the chat view, and opening a 5,000-message chat (nothing asserted).

The stream comes from an in-process backend paced by the clock (no network), so the numbers are the view's own
cost: the longest event-loop stall (a 60 Hz frame timer's worst gap beyond its period) and the frames dropped.

Run from the repo root: python3 -m tests.bench.bench_chat_view  (offscreen; writes
tests/bench/results/bench_chat_view.json)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.gui.chat.pane import ChatPane
from app.gui.chat.stream import AnswerReceipt, ChatRequest, StreamItem
from app.storage.records import Receipt
from app.storage.store import AsyncStorage
from tests.bench.bench_env import write_result

FRAME_MS = 1000 / 60
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "streaming", "tokens",
         "into", "the", "view"]


def token(i: int) -> str:
    """Mixed markdown: words, paragraph breaks, and a code block every ~400 tokens."""
    if i % 400 == 200:
        return "\n```python\n"
    if i % 400 == 260:
        return "\n```\n"
    if 200 < i % 400 < 260:
        return f"x_{i} = {i}\n" if i % 3 == 0 else " "
    return ("\n\n" if i % 60 == 59 else " ") + WORDS[i % len(WORDS)]


class PacedBackend:
    """Yields ``rate`` tokens per second for ``seconds``, one item per token, on the clock."""

    def __init__(self, rate: int, seconds: float) -> None:
        self.rate, self.seconds = rate, seconds

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        total = int(self.rate * self.seconds)
        start = time.perf_counter()
        sent = 0
        while sent < total:
            due = min(total, int((time.perf_counter() - start) * self.rate))
            while sent < due:
                yield token(sent)
                sent += 1
            await asyncio.sleep(0.002)
        yield AnswerReceipt("bench", None, 10, total, 1.0, float(self.rate), 0)


class FrameProbe:
    """A 60 Hz timer: gaps beyond one period are loop stalls; every whole extra period is a dropped frame."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(int(FRAME_MS))
        self.timer.timeout.connect(lambda: self.stamps.append(time.perf_counter()))

    def result(self) -> dict[str, float]:
        gaps = [(b - a) * 1000 for a, b in zip(self.stamps, self.stamps[1:], strict=False)]
        dropped = sum(max(0, round(g / FRAME_MS) - 1) for g in gaps)
        return {"frames": len(gaps), "longest_gap_ms": max(gaps), "longest_stall_ms": max(0.0, max(gaps) - FRAME_MS),
                "p99_gap_ms": statistics.quantiles(gaps, n=100)[98], "frames_dropped": dropped}


async def stream_run(storage: AsyncStorage, rate: int, seconds: float) -> dict[str, float]:
    pane = ChatPane(storage, PacedBackend(rate, seconds), local_label="bench")
    pane.resize(1100, 800)
    pane.show()
    await pane.refresh()
    probe = FrameProbe()
    probe.timer.start()
    started = time.perf_counter()
    await pane.send("Write a long answer")
    elapsed = time.perf_counter() - started
    probe.timer.stop()
    answer = pane.transcript.widgets[-1]
    result = {"tokens": int(rate * seconds), "seconds": elapsed, "view_updates": pane.batcher.flushes,
              "chars": len(answer.text), **probe.result()}
    pane.close()
    pane.deleteLater()
    return result


async def open_run(storage: AsyncStorage, messages: int, repeats: int = 3) -> dict[str, float]:
    chats = storage.sync.chats
    chat = await storage.run(chats.create_chat, "long chat", "local", is_local=True)

    def fill() -> None:
        for i in range(messages):
            m = chats.add_message(chat.id, "user" if i % 2 == 0 else "assistant",
                                  f"Message {i}: " + " ".join(WORDS) + ("\n```\ncode()\n```" if i % 10 == 1 else ""))
            if m.role == "assistant":
                storage.sync.receipts.save(Receipt(m.id, "0x" + "ab" * 20, None, None, "local", 10, 20, 150.0,
                                                   40.0, 0))

    await asyncio.to_thread(fill)
    pane = ChatPane(storage, PacedBackend(1, 0), local_label="bench")
    pane.resize(1100, 800)
    pane.show()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await pane.open_chat(chat.id)
        QApplication.processEvents()  # layout and first paint are part of "opening"
        times.append(time.perf_counter() - start)
    built = len(pane.transcript.widgets)
    pane.close()
    return {"messages": messages, "widgets_built": built, "best_s": min(times), "median_s": statistics.median(times)}


async def main(seconds: float = 8.0, messages: int = 5000, repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        storage = await AsyncStorage.open(Path(tmp) / "bench.sqlite3")
        try:
            stream = await stream_run(storage, rate=1000, seconds=seconds)
            opened = await open_run(storage, messages=messages, repeats=repeats)
        finally:
            await storage.close()
    print(f"cores: {os.cpu_count()}")
    print(f"{'stream':<8} {'tokens':>7} {'s':>6} {'updates':>8} {'frames':>7} {'dropped':>8} {'max stall ms':>13} "
          f"{'p99 gap ms':>11}")
    print(f"{'1000/s':<8} {stream['tokens']:>7} {stream['seconds']:>6.2f} {stream['view_updates']:>8} "
          f"{stream['frames']:>7} {stream['frames_dropped']:>8} {stream['longest_stall_ms']:>13.1f} "
          f"{stream['p99_gap_ms']:>11.1f}")
    print(f"{'open':<8} {'messages':>8} {'widgets':>8} {'best s':>7} {'median s':>9}")
    print(f"{'':<8} {opened['messages']:>8} {opened['widgets_built']:>8} {opened['best_s']:>7.3f} "
          f"{opened['median_s']:>9.3f}")
    # The keys name the default sizes (run_all.py reads them); "tokens" and "messages" inside say the actual ones.
    write_result("bench_chat_view", {"cores": os.cpu_count(), "stream_1000_tps": stream, "open_5000_messages": opened})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the 1,000 tok/s stream (default 8)")
    parser.add_argument("--messages", type=int, default=5000, help="messages in the chat opened (default 5,000)")
    parser.add_argument("--repeats", type=int, default=3, help="times the chat is opened (default 3)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # closing the first run's pane must not end the loop
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main(args.seconds, args.messages, args.repeats))
