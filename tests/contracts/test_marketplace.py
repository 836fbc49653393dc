"""Marketplace facet: fee and price bounds, posting, re-posting, deleting bids, withdrawing fees (§4.3)."""

from __future__ import annotations

from eth_utils.crypto import keccak

from .env import BID_FEE, BID_PRICE, MAX_PRICE, MIN_PRICE, RULE_MARKETPLACE, RULE_PROVIDER, Env, Market
from .reference import MOR


def _lists(env: Env, provider: str, model_id: bytes) -> tuple[list[bytes], list[bytes], list[bytes], list[bytes]]:
    """(provider active, model active, provider all, model all) bid lists."""
    return (
        list(env.fn.getProviderActiveBids(provider, 0, 10).call()[0]),
        list(env.fn.getModelActiveBids(model_id, 0, 10).call()[0]),
        list(env.fn.getProviderBids(provider, 0, 10).call()[0]),
        list(env.fn.getModelBids(model_id, 0, 10).call()[0]),
    )


def test_init_sets_token_and_price_bounds(env: Env) -> None:
    assert env.fn.getToken().call() == env.token.address
    assert env.fn.getMinMaxBidPricePerSecond().call() == [MIN_PRICE, MAX_PRICE]


def test_bid_fee_setter_is_owner_only(env: Env) -> None:
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.setMarketplaceBidFee(1), env.third)
    receipt = env.send(env.fn.setMarketplaceBidFee(2 * MOR), env.owner)
    assert [e["bidFee"] for e in env.events(receipt, "MaretplaceFeeUpdated")] == [2 * MOR]
    assert env.fn.getBidFee().call() == 2 * MOR


def test_price_bounds_setter_is_owner_only(env: Env) -> None:
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.setMinMaxBidPricePerSecond(1, 2), env.third)
    receipt = env.send(env.fn.setMinMaxBidPricePerSecond(5, 9), env.owner)
    assert [list(e.values()) for e in env.events(receipt, "MarketplaceBidMinMaxPriceUpdated")] == [[5, 9]]
    assert env.fn.getMinMaxBidPricePerSecond().call() == [5, 9]


def test_min_price_zero_reverts_min_is_zero(env: Env) -> None:
    with env.reverts("MarketplaceBidMinPricePerSecondIsZero"):
        env.send(env.fn.setMinMaxBidPricePerSecond(0, 9), env.owner)


def test_min_price_above_max_reverts_min_is_invalid(env: Env) -> None:
    with env.reverts("MarketplaceBidMinPricePerSecondIsInvalid"):
        env.send(env.fn.setMinMaxBidPricePerSecond(10, 9), env.owner)


def test_bid_and_provider_model_ids_are_packed_keccaks(env: Env) -> None:
    model = keccak(text="m")
    packed = bytes.fromhex(env.provider[2:]) + model
    assert env.fn.getProviderModelId(env.provider, model).call() == keccak(packed)
    assert env.fn.getBidId(env.provider, model, 5).call() == keccak(packed + (5).to_bytes(32, "big"))


def test_post_bid_stores_bid_charges_fee_and_lists_it(env: Env) -> None:
    model_id = env.register_model()
    env.register_provider()
    provider_before = env.balance(env.provider)
    receipt = env.send(env.fn.postModelBid(env.provider, model_id, BID_PRICE), env.provider)
    bid_id = env.fn.getBidId(env.provider, model_id, 0).call()
    assert env.fn.postModelBid(env.provider, model_id, BID_PRICE).call({"from": env.provider}) == \
        env.fn.getBidId(env.provider, model_id, 1).call()  # the return value is the new bid id
    b = env.bid(bid_id)
    assert tuple(b) == (env.provider, model_id, BID_PRICE, 0, env.block_time(receipt), 0)
    assert env.fn.isBidActive(bid_id).call() is True
    assert provider_before - env.balance(env.provider) == BID_FEE
    assert env.fn.getFeeBalance().call() == BID_FEE
    assert _lists(env, env.provider, model_id) == ([bid_id], [bid_id], [bid_id], [bid_id])
    posted = env.events(receipt, "MarketplaceBidPosted")
    assert [(e["provider"], e["modelId"], e["nonce"]) for e in posted] == [(env.provider, model_id, 0)]


def test_post_bid_works_from_marketplace_delegatee(env: Env) -> None:
    model_id = env.register_model()
    env.register_provider()
    env.delegate(env.provider, env.delegatee, RULE_MARKETPLACE)
    before = env.balance(env.provider)
    bid_id = env.post_bid(env.provider, model_id, sender=env.delegatee)
    assert env.bid(bid_id).provider == env.provider
    assert before - env.balance(env.provider) == BID_FEE  # the fee comes from the provider


def test_post_bids_across_several_models(env: Env) -> None:
    env.register_provider()
    models = [env.register_model(base_id=keccak(text=f"m{i}")) for i in range(3)]
    bids = [env.post_bid(env.provider, m, BID_PRICE + i) for i, m in enumerate(models)]
    assert list(env.fn.getProviderActiveBids(env.provider, 0, 10).call()[0]) == bids
    for m, b in zip(models, bids, strict=True):
        assert list(env.fn.getModelActiveBids(m, 0, 10).call()[0]) == [b]
    assert env.fn.getFeeBalance().call() == 3 * BID_FEE


def test_reposting_replaces_the_active_bid(market: Market) -> None:
    env, old = market.env, market.bid_id
    before = env.balance(env.provider)
    receipt = env.send(env.fn.postModelBid(env.provider, market.model_id, 2 * BID_PRICE), env.provider)
    new = env.fn.getBidId(env.provider, market.model_id, 1).call()
    assert env.bid(old).deletedAt == env.block_time(receipt)
    assert env.bid(new).nonce == 1
    assert env.fn.isBidActive(old).call() is False
    assert _lists(env, env.provider, market.model_id) == ([new], [new], [old, new], [old, new])
    assert before - env.balance(env.provider) == BID_FEE
    assert env.fn.getFeeBalance().call() == 2 * BID_FEE
    deleted = env.events(receipt, "MarketplaceBidDeleted")
    assert [(e["provider"], e["modelId"], e["nonce"]) for e in deleted] == [(env.provider, market.model_id, 0)]


def test_reposting_after_manual_delete_works(market: Market) -> None:
    env = market.env
    env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    new = env.post_bid(env.provider, market.model_id)
    assert env.bid(new).nonce == 1
    assert _lists(env, env.provider, market.model_id)[:2] == ([new], [new])


def test_post_bid_for_unknown_provider_reverts_provider_not_found(market: Market) -> None:
    env = market.env
    with env.reverts("MarketplaceProviderNotFound"):
        env.post_bid(env.third, market.model_id)


def test_post_bid_for_deregistered_provider_reverts_provider_not_found(market: Market) -> None:
    env = market.env
    env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    env.send(env.fn.providerDeregister(env.provider), env.provider)
    with env.reverts("MarketplaceProviderNotFound"):
        env.post_bid(env.provider, market.model_id)


def test_post_bid_for_unknown_model_reverts_model_not_found(market: Market) -> None:
    env = market.env
    with env.reverts("MarketplaceModelNotFound"):
        env.post_bid(env.provider, keccak(text="unknown"))


def test_post_bid_for_deregistered_model_reverts_model_not_found(market: Market) -> None:
    env = market.env
    env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    env.send(env.fn.modelDeregister(market.model_id), env.owner)
    with env.reverts("MarketplaceModelNotFound"):
        env.post_bid(env.provider, market.model_id)


def test_post_bid_with_price_outside_bounds_reverts_price_invalid(market: Market) -> None:
    env = market.env
    for price in (0, MIN_PRICE - 1, MAX_PRICE + 1):
        with env.reverts("MarketplaceBidPricePerSecondInvalid"):
            env.post_bid(env.provider, market.model_id, price)
    env.post_bid(env.provider, market.model_id, MAX_PRICE)  # the bounds themselves are allowed


def test_post_bid_without_delegation_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    with env.reverts("InsufficientRightsForOperation", env.provider, env.delegatee):
        env.post_bid(env.provider, market.model_id, sender=env.delegatee)


def test_post_bid_with_wrong_rule_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    env.delegate(env.provider, env.delegatee, RULE_PROVIDER)
    with env.reverts("InsufficientRightsForOperation", env.provider, env.delegatee):
        env.post_bid(env.provider, market.model_id, sender=env.delegatee)


def test_delete_bid_sets_deleted_at_and_deactivates(market: Market) -> None:
    env = market.env
    receipt = env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    assert env.bid(market.bid_id).deletedAt == env.block_time(receipt)
    assert env.fn.isBidActive(market.bid_id).call() is False
    assert _lists(env, env.provider, market.model_id) == ([], [], [market.bid_id], [market.bid_id])
    assert env.fn.getFeeBalance().call() == BID_FEE  # no refund
    assert len(env.events(receipt, "MarketplaceBidDeleted")) == 1


def test_delete_bid_works_from_marketplace_delegatee(market: Market) -> None:
    env = market.env
    env.delegate(env.provider, env.delegatee, RULE_MARKETPLACE)
    env.send(env.fn.deleteModelBid(market.bid_id), env.delegatee)
    assert env.fn.isBidActive(market.bid_id).call() is False


def test_delete_bid_by_non_provider_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    with env.reverts("InsufficientRightsForOperation", env.provider, env.third):
        env.send(env.fn.deleteModelBid(market.bid_id), env.third)


def test_second_delete_reverts_active_bid_not_found(market: Market) -> None:
    env = market.env
    env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    with env.reverts("MarketplaceActiveBidNotFound"):
        env.send(env.fn.deleteModelBid(market.bid_id), env.provider)


def test_withdraw_fee_above_balance_pays_whole_balance(market: Market) -> None:
    env = market.env
    before = env.balance(env.third)
    env.send(env.fn.withdrawFee(env.third, 100 * MOR), env.owner)
    assert env.balance(env.third) - before == BID_FEE
    assert env.fn.getFeeBalance().call() == 0


def test_withdraw_fee_partial_amount_leaves_the_rest(market: Market) -> None:
    env = market.env
    before = env.balance(env.third)
    env.send(env.fn.withdrawFee(env.third, BID_FEE // 3), env.owner)
    assert env.balance(env.third) - before == BID_FEE // 3
    assert env.fn.getFeeBalance().call() == BID_FEE - BID_FEE // 3


def test_withdraw_fee_is_owner_only(market: Market) -> None:
    env = market.env
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.withdrawFee(env.third, 1), env.third)


def test_withdraw_fee_with_zero_balance_reverts_amount_is_zero(env: Env) -> None:
    with env.reverts("MarketplaceFeeAmountIsZero"):
        env.send(env.fn.withdrawFee(env.third, 1), env.owner)


def test_bid_lists_paginate_with_total_length(market: Market) -> None:
    env = market.env
    new = env.post_bid(env.provider, market.model_id)
    assert env.fn.getModelBids(market.model_id, 0, 0).call() == [[], 2]
    assert env.fn.getModelBids(market.model_id, 1, 1).call() == [[new], 2]
    assert env.fn.getModelBids(market.model_id, 2, 1).call() == [[], 2]


def test_active_bid_lists_use_swap_and_pop_order(market: Market) -> None:
    env = market.env
    others = [env.register_model(base_id=keccak(text=f"other{i}")) for i in range(2)]
    b2, b3 = (env.post_bid(env.provider, m) for m in others)
    env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    assert env.fn.getProviderActiveBids(env.provider, 0, 10).call() == [[b3, b2], 2]
    assert env.fn.getProviderBids(env.provider, 0, 10).call() == [[market.bid_id, b2, b3], 3]


def test_post_bid_checks_provider_then_model_then_price(market: Market) -> None:
    env = market.env
    unknown_model = keccak(text="unknown")
    env.send(env.fn.providerRegister(env.third, 10**18, "x"), env.third)
    with env.reverts("MarketplaceProviderNotFound"):
        env.post_bid(env.provider2, unknown_model, 0)
    with env.reverts("MarketplaceModelNotFound"):
        env.post_bid(env.third, unknown_model, 0)
    with env.reverts("MarketplaceBidPricePerSecondInvalid"):
        env.post_bid(env.third, market.model_id, 0)


def test_withdraw_fee_emits_no_diamond_event(market: Market) -> None:
    env = market.env
    receipt = env.send(env.fn.withdrawFee(env.third, BID_FEE), env.owner)
    assert [lg for lg in receipt["logs"] if lg["address"] == env.diamond.address] == []
