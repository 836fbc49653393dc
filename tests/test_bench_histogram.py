"""The benchmarks' constant-memory latency histogram agrees with the sorted samples it replaces."""

from __future__ import annotations

import random

from tests.bench.bench_env import Histogram, percentile


def test_percentiles_max_and_counts_match_the_samples_to_a_tenth_of_a_millisecond() -> None:
    rng = random.Random(7)
    samples = [rng.expovariate(1 / 3) for _ in range(20_000)] + [51.0, 75.5, -0.2]
    histogram = Histogram()
    for value in samples:
        histogram.add(value)

    assert histogram.count == len(samples)
    assert histogram.max == 75.5
    assert histogram.over_50 == 2
    for q in (50, 90, 99, 99.9):
        assert abs(histogram.percentile(q) - percentile(samples, q)) <= 0.1
    assert len(histogram.buckets) < 1_000  # memory follows the spread of values, not the number of samples


def test_an_empty_histogram_reports_zeros() -> None:
    empty = Histogram()
    assert (empty.count, empty.max, empty.percentile(99)) == (0, 0.0, 0.0)
