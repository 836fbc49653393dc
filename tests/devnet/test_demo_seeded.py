"""The demo marketplace with the real SmolLM2: a seeded history of real sessions, a strict ranking, visible failover."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from demo_env import answer_text, consumer_for, running_demo, spare_consumer, specs_on_free_ports
from devnet_rpc import needs_anvil

from app.devnet.demo import SEED_CONSUMER_INDEX, DemoMarketplace, DemoProvider
from app.devnet.demo_seed import load_seed_record
from app.devnet.local_model import MISSING_MESSAGE, LocalModelServer
from app.devnet.progress import StartupStep
from app.devnet.service import DevnetService
from app.devnet.setup import dev_signer
from app.router.consumer.failover import FAILOVER_MESSAGE, NEW_SESSION_PREFIX, ChunkItem, ControlItem
from app.router.consumer.market import Market
from app.router.consumer.prompt import content_of

pytestmark = [
    needs_anvil,
    pytest.mark.llm,
    pytest.mark.slow,
    pytest.mark.skipif(not LocalModelServer().available(), reason=MISSING_MESSAGE),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(180),
]


@dataclass
class Seeded:
    devnet: DevnetService
    demo: DemoMarketplace
    providers: list[DemoProvider]
    steps: list[StartupStep]
    data_dir: Path

    def by_name(self, name: str) -> DemoProvider:
        return next(p for p in self.providers if p.spec.name == name)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Seeded]:
    # One seeded marketplace for the module: the model start and the seeding are the slow parts.
    data_dir = tmp_path_factory.mktemp("demo")
    model = LocalModelServer(log_path=data_dir / "local-model.log")
    demo = DemoMarketplace(data_dir, specs=specs_on_free_ports(), model_server=model)
    steps: list[StartupStep] = []
    async with running_demo(data_dir, demo, steps) as devnet:
        yield Seeded(devnet, demo, list(demo.providers), steps, data_dir)


async def test_seeding_closes_real_answered_sessions_and_disputes_one_on_the_flaky_provider(seeded: Seeded) -> None:
    record = load_seed_record(seeded.data_dir)
    assert record is not None
    diamond = seeded.providers[0].account.diamond
    on_chain = [await diamond.get_session(bytes.fromhex(s.session_id[2:])) for s in record.sessions]
    flaky = seeded.by_name("flaky").address

    assert record.consumer == dev_signer(SEED_CONSUMER_INDEX).address
    assert len(record.sessions) == 2 * len(seeded.providers)
    assert all(s.closed_at > 0 for s in on_chain)
    steady = [s for s in record.sessions if s.provider != flaky]
    assert all(s.answered and not s.disputed for s in steady)
    flaky_sessions = [s for s in record.sessions if s.provider == flaky]
    assert [(s.answered, s.disputed) for s in flaky_sessions] == [(True, False), (False, True)]
    seed_step = next(s for s in seeded.steps if s.name == "seeding history" and s.state == "ok")
    assert seed_step.message.startswith(f"{len(record.sessions)} sessions in ")


async def test_after_seeding_every_bid_scores_differently_and_the_flaky_provider_succeeds_least(
    seeded: Seeded,
) -> None:
    assert seeded.demo.model_id is not None
    snapshot = await Market(seeded.providers[0].account.diamond, seeded.devnet.client).snapshot(seeded.demo.model_id)
    by_address = {b.provider_address.lower(): b for b in snapshot.bids}
    flaky = by_address[seeded.by_name("flaky").address.lower()]
    others = [b for a, b in by_address.items() if a != flaky.provider_address.lower()]

    assert len(snapshot.bids) == len(seeded.providers)
    assert len({b.scored.score for b in snapshot.bids}) == len(snapshot.bids)  # no tie anywhere
    assert all(b.provider_stats.total_count == 2 for b in snapshot.bids)
    assert (flaky.provider_stats.success_count, flaky.scored.terms.success) == (1, 0.25)
    assert all(b.provider_stats.success_count == 2 and b.scored.terms.success == 1.0 for b in others)
    assert snapshot.model_stats.count == len(seeded.providers)
    # Real measurements: the speed terms are no longer the neutral 0.5 that a provider without history gets.
    assert any(b.scored.terms.tps != 0.5 for b in snapshot.bids)
    assert len({b.provider_stats.ttft.mean for b in snapshot.bids}) > 1


async def test_seeding_is_not_repeated_on_a_chain_that_has_the_history(seeded: Seeded) -> None:
    diamond = seeded.providers[0].account.diamond
    consumer = dev_signer(SEED_CONSUMER_INDEX).address
    before = (await diamond.user_sessions(consumer, 0, 0)).total

    message = await seeded.demo.seed(seeded.devnet)

    assert message == "already seeded on this chain"
    assert (await diamond.user_sessions(consumer, 0, 0)).total == before


async def test_an_answer_cut_by_the_flaky_provider_is_finished_by_another_provider(
    seeded: Seeded, tmp_path: Path
) -> None:
    flaky = seeded.by_name("flaky")
    assert flaky.proxy is not None
    async with consumer_for(seeded.devnet, spare_consumer(), tmp_path / "c.sqlite3", failover=True) as consumer:
        session = await consumer.open_session(bid_id="0x" + flaky.bid_id.hex(), duration_s=600, failover=True)
        params = {"max_tokens": 12, "temperature": 0}
        if flaky.proxy.upcoming("session.prompt") == "pass":  # run the schedule up to its next cut
            text = await answer_text(consumer.chat(prompt="Say hi.", session_id=session.id, params=params))
            assert text.strip()
        assert flaky.proxy.upcoming("session.prompt") == "cut"
        chunks, controls = "", []
        async for item in consumer.chat(prompt="Name a fruit.", session_id=session.id, params=params):
            if isinstance(item, ChunkItem):
                chunks += content_of(item.data)
            elif isinstance(item, ControlItem):
                controls.append(item.text)
        open_sessions = await consumer.sessions()

    assert controls[0] == FAILOVER_MESSAGE
    assert controls[1].startswith(NEW_SESSION_PREFIX)
    assert chunks.strip()
    assert len(open_sessions) == 1  # the flaky provider's session was closed when the answer moved on
    assert open_sessions[0].provider.lower() != flaky.address.lower()
