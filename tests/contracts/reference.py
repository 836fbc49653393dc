"""Independent Python reference of the marketplace arithmetic (spec §6.3, §6.9), for comparing with the contract."""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86_400
COMPUTE_POOL_INDEX = 3
# 1e18: MOR wei per MOR.
MOR = 10**18
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Pool:
    """One emission pool, field order as the contract's `Pool` struct."""

    initial_reward: int
    reward_decrease: int
    payout_start: int
    decrease_interval: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.initial_reward, self.reward_decrease, self.payout_start, self.decrease_interval)


DEPLOYED_PAYOUT_START = 1_707_393_600  # 2024-02-08 12:00 UTC, all four configs (§6.2)


def deployed_pools(payout_start: int = DEPLOYED_PAYOUT_START) -> list[Pool]:
    """The five pools of §6.2, optionally with another `payoutStart` (same for all)."""
    big = Pool(3456 * MOR, 592_558_728_240_000_000, payout_start, DAY)
    return [big, big, big, big, Pool(576 * MOR, 98_759_788_040_000_000, payout_start, DAY)]


def _ceil_div(a: int, b: int) -> int:
    return (a + b - 1) // b


def period_reward_from_start(pool: Pool, end: int) -> int:
    """Cumulative emission of `pool` from its payoutStart to `end`, as a sum over whole intervals.

    Written independently of the library's three-part split: interval k pays `initial − k·decrease`, the
    interval containing `end` pays its pro-rated share (one floor division), nothing after the last interval.
    """
    initial, dec, start, interval = pool.as_tuple()
    if interval == 0 or end <= start:
        return 0
    if dec:
        end = min(end, start + _ceil_div(initial, dec) * interval)
    full, rest = divmod(end - start, interval)
    total = sum(initial - k * dec for k in range(full))
    partial = initial - full * dec
    if rest and partial > 0:
        total += partial * rest // interval
    return total


def start_of_day(t: int) -> int:
    return t - t % DAY


def compute_balance(pools: list[Pool], t: int, claimed: int = 0) -> int:
    return period_reward_from_start(pools[COMPUTE_POOL_INDEX], start_of_day(t)) - claimed


def total_mor_supply(pools: list[Pool], t: int, claimed: int = 0) -> int:
    sod = start_of_day(t)
    others = sum(period_reward_from_start(p, sod) for i, p in enumerate(pools) if i != COMPUTE_POOL_INDEX)
    return others + claimed


def todays_budget(pools: list[Pool], t: int, claimed: int = 0) -> int:
    return compute_balance(pools, t, claimed) // 100


def stake_to_stipend(pools: list[Pool], amount: int, t: int, claimed: int = 0) -> int:
    supply = total_mor_supply(pools, t, claimed)
    if supply == 0:
        return 0
    return amount * compute_balance(pools, t, claimed) // (supply * 100)


def stipend_to_stake(pools: list[Pool], stipend: int, t: int, claimed: int = 0) -> int:
    balance = compute_balance(pools, t, claimed)
    if balance == 0:
        return 0
    return stipend * total_mor_supply(pools, t, claimed) * 100 // balance


def session_end(pools: list[Pool], amount: int, price: int, opened_at: int, max_duration: int,
                claimed: int = 0) -> int:
    return opened_at + min(max_duration, stake_to_stipend(pools, amount, opened_at, claimed) // price)


# ---- LibSD and the stats update of §6.9 ------------------------------------------------------------------


def _int64(x: int) -> int:
    # Solidity 0.8 checked arithmetic: an out-of-range int64 would revert, which these tests never expect.
    assert INT64_MIN <= x <= INT64_MAX, f"int64 overflow: {x}"
    return x


def tdiv(a: int, b: int) -> int:
    """Signed division truncating toward zero, as Solidity's `/` on ints (Python's // floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@dataclass
class SD:
    """LibSD.SD: running mean and squared-deviation sum in int64."""

    mean: int = 0
    sq_sum: int = 0

    def add(self, x: int, n: int) -> None:
        old = self.mean
        self.mean = _int64(self.mean + tdiv(_int64(x - self.mean), n))
        self.sq_sum = _int64(self.sq_sum + _int64((x - self.mean) * (x - old)))

    def remove(self, x: int, n: int) -> None:
        if n == 0:
            self.mean, self.sq_sum = 0, 0
            return
        old = self.mean
        self.mean = _int64(self.mean - tdiv(_int64(x - self.mean), n))
        self.sq_sum = _int64(self.sq_sum - _int64((x - self.mean) * (x - old)))

    def as_tuple(self) -> tuple[int, int]:
        return (self.mean, self.sq_sum)


@dataclass
class ProviderModelStats:
    tps: SD
    ttft: SD
    total_duration: int = 0
    success_count: int = 0
    total_count: int = 0

    def as_tuple(self) -> tuple[tuple[int, int], tuple[int, int], int, int, int]:
        return (self.tps.as_tuple(), self.ttft.as_tuple(), self.total_duration, self.success_count,
                self.total_count)


@dataclass
class ModelStats:
    tps: SD
    ttft: SD
    total_duration: SD
    count: int = 0

    def as_tuple(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], int]:
        return (self.tps.as_tuple(), self.ttft.as_tuple(), self.total_duration.as_tuple(), self.count)


class StatsModel:
    """The §6.9 `_setStats` update, kept per (model, provider) and per model."""

    def __init__(self) -> None:
        self.pm: dict[tuple[bytes, str], ProviderModelStats] = {}
        self.m: dict[bytes, ModelStats] = {}

    def provider_model(self, model_id: bytes, provider: str) -> ProviderModelStats:
        return self.pm.setdefault((model_id, provider), ProviderModelStats(SD(), SD()))

    def model(self, model_id: bytes) -> ModelStats:
        return self.m.setdefault(model_id, ModelStats(SD(), SD(), SD()))

    def on_close(self, model_id: bytes, provider: str, no_dispute: bool, tps: int, ttft: int,
                 duration: int) -> None:
        pm, m = self.provider_model(model_id, provider), self.model(model_id)
        pm.total_count += 1
        if not no_dispute:
            return
        if pm.success_count > 0:
            m.tps.remove(pm.tps.mean, m.count - 1)
            m.ttft.remove(pm.ttft.mean, m.count - 1)
        else:
            m.count += 1
        pm.success_count += 1
        pm.total_duration += duration
        pm.tps.add(tps, pm.success_count)
        pm.ttft.add(ttft, pm.success_count)
        m.total_duration.add(pm.total_duration, m.count)
        m.tps.add(pm.tps.mean, m.count)
        m.ttft.add(pm.ttft.mean, m.count)
