""""Where is my MOR": one snapshot of a wallet's MOR and ETH across the wallet, sessions, hold and provider stake."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.bootstrap.services import Services
from app.chain.diamond import Diamond
from app.chain.records import Bid, Provider, Session
from app.errors import ChainError

DAY = 86_400
MAX_SESSIONS_READ = 200  # the newest sessions only: older ones are closed and hold no MOR


@dataclass(frozen=True)
class SessionStake:
    """MOR escrowed in one open session, and what comes back if it runs to its end."""

    id: bytes
    provider: str
    stake: int
    price_per_second: int
    opened_at: int
    ends_at: int
    direct: bool

    @property
    def expected_refund(self) -> int:
        """MOR returned when the session ends on time: all of it for a staked session, the unspent part if direct."""
        spent = (self.ends_at - self.opened_at) * self.price_per_second if self.direct else 0
        return max(self.stake - spent, 0)


@dataclass(frozen=True)
class MorPicture:
    """Every MOR of one wallet at one block time (amounts in wei)."""

    address: str
    chain_time: int
    eth: int
    mor: int
    allowance: int
    sessions: tuple[SessionStake, ...]
    on_hold_available: int
    on_hold_locked: int
    provider_stake: int
    claimable: int
    claimable_sessions: tuple[bytes, ...]

    @property
    def staked_in_sessions(self) -> int:
        """MOR escrowed in open sessions."""
        return sum(s.stake for s in self.sessions)

    @property
    def release_at(self) -> int | None:
        """When locked on-hold MOR becomes withdrawable: the UTC midnight after an early close (today's)."""
        return (self.chain_time // DAY + 1) * DAY if self.on_hold_locked else None

    @property
    def total(self) -> int:
        """All MOR this wallet owns or will get back."""
        return (
            self.mor + self.staked_in_sessions + self.on_hold_available + self.on_hold_locked + self.provider_stake
            + self.claimable
        )


def claimable_reward(session: Session, price_per_second: int, now: int) -> int:
    """What ``claimForProvider`` would pay for ``session`` now (contracts spec §6.7), before the yearly limiter."""
    end = session.ends_at if session.closed_at == 0 else min(session.closed_at, session.ends_at)
    if now < end:
        return 0
    rewards = (end - session.opened_at) * price_per_second - session.provider_withdrawn_amount
    on_hold = 0
    if session.closed_at and now < (session.closed_at // DAY + 1) * DAY:
        on_hold = (session.closed_at - max(session.closed_at // DAY * DAY, session.opened_at)) * price_per_second
    # A same-day claim after an early close would underflow on-chain (a revert): nothing is claimable yet.
    return max(rewards - on_hold, 0)


def _require(services: Services) -> Diamond:
    if services.chain is None or services.diamond is None or services.token is None:
        raise ChainError("The chain is not connected yet; wait for the status bar to show a block number.")
    return services.diamond


async def _newest_sessions(diamond: Diamond, ids_total: int, reader: str, provider: bool) -> list[Session]:
    start = max(ids_total - MAX_SESSIONS_READ, 0)
    page = await (diamond.provider_sessions if provider else diamond.user_sessions)(reader, start, MAX_SESSIONS_READ)
    return await diamond.get_sessions(list(page.items)) if page.items else []


async def _bids(diamond: Diamond, sessions: list[Session]) -> dict[bytes, Bid]:
    ids = sorted({s.bid_id for s in sessions})
    return {b.id: b for b in await diamond.get_bids(ids)} if ids else {}


async def _provider_side(diamond: Diamond, address: str, now: int) -> tuple[int, int, tuple[bytes, ...]]:
    provider: Provider = await diamond.get_provider(address)
    if not provider.exists:
        return 0, 0, ()
    total = (await diamond.provider_sessions(address, 0, 0)).total
    sessions = await _newest_sessions(diamond, total, address, provider=True)
    bids = await _bids(diamond, sessions)
    rewards = {s.id: claimable_reward(s, bids[s.bid_id].price_per_second, now) for s in sessions if s.bid_id in bids}
    claimable_ids = tuple(i for i, r in rewards.items() if r > 0)
    # The reward limiter: a provider earns at most its stake per 365-day period (spec §6.6).
    room = provider.stake if now > provider.limit_period_end else provider.stake - provider.limit_period_earned
    claimable = min(sum(rewards.values()), max(room, 0))
    return (0 if provider.is_deleted else provider.stake), claimable, claimable_ids


async def load_mor_picture(services: Services, address: str) -> MorPicture:
    """Read the whole picture for ``address`` (a handful of RPC calls, batched through Multicall3 where possible)."""
    diamond = _require(services)
    assert services.chain is not None
    assert services.token is not None
    chain, token = services.chain, services.token
    now, eth, mor, allowance, hold, user_total = await asyncio.gather(
        chain.block_timestamp(),
        chain.get_balance(address),
        token.balance_of(address),
        token.allowance(address, diamond.address),
        diamond.user_stakes_on_hold(address),
        diamond.user_sessions(address, 0, 0),
    )
    sessions = await _newest_sessions(diamond, user_total.total, address, provider=False)
    open_sessions = [s for s in sessions if s.is_active and s.closed_at == 0]
    bids = await _bids(diamond, open_sessions)
    stakes = tuple(
        SessionStake(
            s.id, bids[s.bid_id].provider if s.bid_id in bids else "", s.stake,
            bids[s.bid_id].price_per_second if s.bid_id in bids else 0, s.opened_at, s.ends_at,
            s.is_direct_payment_from_user,
        )
        for s in sorted(open_sessions, key=lambda s: s.ends_at)
    )  # fmt: skip
    provider_stake, claimable, claimable_ids = await _provider_side(diamond, address, now)
    return MorPicture(
        address=address,
        chain_time=now,
        eth=eth,
        mor=mor,
        allowance=allowance,
        sessions=stakes,
        on_hold_available=hold.available,
        on_hold_locked=hold.on_hold,
        provider_stake=provider_stake,
        claimable=claimable,
        claimable_sessions=claimable_ids,
    )
