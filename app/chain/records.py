"""Typed views of the Diamond's structs (contracts-spec §3), built from decoded ABI tuples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paginated list view and the total length of the whole list (contracts-spec §9)."""

    items: tuple[T, ...]
    total: int


@dataclass(frozen=True)
class Provider:
    address: str
    endpoint: str
    stake: int
    created_at: int
    limit_period_end: int
    limit_period_earned: int
    is_deleted: bool

    @property
    def exists(self) -> bool:
        return self.created_at != 0

    @property
    def is_active(self) -> bool:
        return self.created_at != 0 and not self.is_deleted

    @classmethod
    def from_tuple(cls, address: str, t: tuple[Any, ...]) -> Provider:
        return cls(address, t[0], t[1], t[2], t[3], t[4], t[5])


@dataclass(frozen=True)
class Model:
    id: bytes
    ipfs_cid: bytes
    fee: int
    stake: int
    owner: str
    name: str
    tags: tuple[str, ...]
    created_at: int
    is_deleted: bool

    @property
    def is_active(self) -> bool:
        return self.created_at != 0 and not self.is_deleted

    @classmethod
    def from_tuple(cls, model_id: bytes, t: tuple[Any, ...]) -> Model:
        return cls(model_id, t[0], t[1], t[2], t[3], t[4], tuple(t[5]), t[6], t[7])


@dataclass(frozen=True)
class Bid:
    id: bytes
    provider: str
    model_id: bytes
    price_per_second: int
    nonce: int
    created_at: int
    deleted_at: int

    @property
    def is_active(self) -> bool:
        return self.created_at != 0 and self.deleted_at == 0

    @classmethod
    def from_tuple(cls, bid_id: bytes, t: tuple[Any, ...]) -> Bid:
        return cls(bid_id, t[0], t[1], t[2], t[3], t[4], t[5])


@dataclass(frozen=True)
class Session:
    id: bytes
    user: str
    bid_id: bytes
    stake: int
    closeout_receipt: bytes
    closeout_type: int
    provider_withdrawn_amount: int
    opened_at: int
    ends_at: int
    closed_at: int
    is_active: bool
    is_direct_payment_from_user: bool

    @property
    def exists(self) -> bool:
        return self.opened_at != 0

    @property
    def disputed(self) -> bool:
        return self.closeout_type == 1

    @classmethod
    def from_tuple(cls, session_id: bytes, t: tuple[Any, ...]) -> Session:
        return cls(session_id, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10])


@dataclass(frozen=True)
class Pool:
    initial_reward: int
    reward_decrease: int
    payout_start: int
    decrease_interval: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.initial_reward, self.reward_decrease, self.payout_start, self.decrease_interval)

    @classmethod
    def from_tuple(cls, t: tuple[Any, ...]) -> Pool:
        return cls(t[0], t[1], t[2], t[3])


@dataclass(frozen=True)
class SD:
    """LibSD running statistics: signed int64 mean and squared-deviation sum."""

    mean: int
    sq_sum: int

    @classmethod
    def from_tuple(cls, t: tuple[Any, ...]) -> SD:
        return cls(int(t[0]), int(t[1]))


@dataclass(frozen=True)
class ModelStats:
    tps_scaled1000: SD
    ttft_ms: SD
    total_duration: SD
    count: int

    @classmethod
    def from_tuple(cls, t: tuple[Any, ...]) -> ModelStats:
        return cls(SD.from_tuple(t[0]), SD.from_tuple(t[1]), SD.from_tuple(t[2]), t[3])


@dataclass(frozen=True)
class ProviderModelStats:
    tps_scaled1000: SD
    ttft_ms: SD
    total_duration: int
    success_count: int
    total_count: int

    @classmethod
    def from_tuple(cls, t: tuple[Any, ...]) -> ProviderModelStats:
        return cls(SD.from_tuple(t[0]), SD.from_tuple(t[1]), t[2], t[3], t[4])


@dataclass(frozen=True)
class StakesOnHold:
    """``getUserStakesOnHold``: MOR already released (withdrawable) and MOR still locked until midnight UTC."""

    available: int
    on_hold: int
