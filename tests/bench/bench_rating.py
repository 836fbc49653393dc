"""Benchmark: rank 10,000 bids with varied stats and wei amounts; prints the time (nothing asserted).

Run: python3 tests/bench/bench_rating.py  (writes tests/bench/results/bench_rating.json)
"""

from __future__ import annotations

import argparse
import random
import time

from app.router.consumer.rating import BidInfo, ModelStats, ProviderModelStats, Stat, rank_bids
from tests.bench.bench_env import write_result

MOR = 10**18


def main(n: int = 10_000, repeats: int = 5) -> None:
    rng = random.Random(42)
    model = "0x" + "ab" * 32
    bids = [
        BidInfo(f"0x{i:064x}", f"0x{i:040x}", model, rng.randint(10**9, 20 * MOR), rng.randint(0, 50 * MOR))
        for i in range(n)
    ]
    stats = {
        b.provider: ProviderModelStats(
            tps=Stat(rng.randint(1_000, 90_000), 0), ttft=Stat(rng.randint(50, 3_000), 0),
            total_duration=rng.randint(10, 3_600), success_count=(s := rng.randint(0, 100)),
            total_count=s + rng.randint(0, 20),
        )
        for b in bids if rng.random() < 0.8
    }
    model_stats = ModelStats(Stat(30_000, 10**12), Stat(800, 10**9), Stat(600, 10**9), count=5_000)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ranked = rank_bids(bids, stats, model_stats, 2 * 10**17)
        times.append(time.perf_counter() - start)
    best, median = min(times), sorted(times)[len(times) // 2]
    print(f"{'bids':>8} {'ranked':>8} {'best ms':>9} {'median ms':>10} {'µs/bid':>8}")
    print(f"{n:>8} {len(ranked):>8} {best * 1e3:>9.1f} {median * 1e3:>10.1f} {best / n * 1e6:>8.1f}")
    write_result("bench_rating", {"bids": n, "ranked": len(ranked), "best_s": best, "median_s": median})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bids", type=int, default=10_000, help="bids ranked (default 10,000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rankings, best and median kept (default 5)")
    args = parser.parse_args()
    main(args.bids, args.repeats)
