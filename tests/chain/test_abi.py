"""The hand-written Diamond ABI descriptors produce the selectors and event topics of contracts-spec §5."""

from __future__ import annotations

from eth_abi.abi import encode

from app.chain import diamond_abi as d
from app.chain.abi import Function, split_tuple_type


def test_key_function_selectors_match_the_spec() -> None:
    expected = {
        d.OPEN_SESSION: "a85a1782",
        d.CLOSE_SESSION: "42f77a31",
        d.CLAIM_FOR_PROVIDER: "f2e96e8e",
        d.WITHDRAW_USER_STAKES: "a98a7c6b",
        d.POST_MODEL_BID: "ede96bb1",
        d.DELETE_MODEL_BID: "8913dcaa",
        d.PROVIDER_REGISTER: "365700cb",
        d.MODEL_REGISTER: "21dea0a0",
        d.GET_SESSION: "39b240bd",
        d.GET_TODAYS_BUDGET: "40005965",
        d.TOTAL_MOR_SUPPLY: "6d0cfe5a",
        d.GET_PROVIDER_MODEL_STATS: "1b26c116",
        d.SESSION_ROUTER_INIT: "f8ba944b",
        d.DIAMOND_CUT: "e57e69c6",
    }
    assert {f.name: f.selector.hex() for f in expected} == {f.name: s for f, s in expected.items()}


def test_event_topics_match_the_spec() -> None:
    assert d.SESSION_OPENED.topic0.hex() == "2bd7c890baf595977d256a6e784512c873ac58ba612b4895dbb7f784bfbf4839"
    assert d.SESSION_CLOSED.topic0.hex() == "337fbb0a41a596db800dc836595a57815f967185e3596615c646f2455ac3914a"
    assert d.BID_POSTED.topic0.hex() == "fc422bb61cd73bc76f27eecf69cce3db0b05d39769ca3ed0fb314a3d04bff6f6"
    assert d.BID_DELETED.topic0.hex() == "409dfc0f98bf6e062e576fbdc63c9f82392d44deff61e3412f8bd256d2814883"


def test_struct_round_trips_through_encode_and_decode() -> None:
    echo = Function("getSession", ("bytes32",), (d.SESSION,))
    session = (
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        b"\x01" * 32,
        50 * 10**18,
        b"receipt",
        1,
        2,
        3,
        4,
        5,
        True,
        False,
    )
    assert echo.decode(encode([d.SESSION], [session])) == (session,)


def test_split_tuple_type_respects_nesting() -> None:
    assert split_tuple_type("(a,(b,c)[],d)") == ["a", "(b,c)[]", "d"]


def _abi_functions() -> dict[str, tuple[str, ...]]:
    """signature → output types (signatures, not names: diamondCut is overloaded)."""
    from app.chain.artifacts import abi_type, diamond_abi

    return {
        f"{e['name']}({','.join(abi_type(i) for i in e['inputs'])})": tuple(abi_type(o) for o in e["outputs"])
        for e in diamond_abi()
        if e["type"] == "function"
    }


def test_every_diamond_descriptor_matches_the_compiled_abi() -> None:
    compiled = _abi_functions()
    token_and_multicall = {"balanceOf", "allowance", "approve", "increaseAllowance", "transfer", "totalSupply"}
    token_and_multicall |= {"decimals", "aggregate", "aggregate3"}
    descriptors = [v for v in vars(d).values() if isinstance(v, Function) and v.name not in token_and_multicall]
    assert len(descriptors) > 60
    for fn in descriptors:
        assert fn.signature in compiled, fn.signature
        assert fn.outputs == compiled[fn.signature], fn.signature


def test_every_custom_error_in_the_compiled_abi_has_words() -> None:
    from app.chain.artifacts import abi_type, diamond_abi
    from app.chain.revert import CUSTOM_ERRORS

    errors = [e for e in diamond_abi() if e["type"] == "error"]
    assert len(errors) >= 36
    for entry in errors:
        types = tuple(abi_type(i) for i in entry["inputs"])
        assert CUSTOM_ERRORS[entry["name"]][0] == types, entry["name"]


def test_token_and_multicall_descriptors_match_their_artifacts() -> None:
    from app.chain.artifacts import abi_type, load_artifact

    for contract, names in (("MorpheusToken", ("balanceOf", "allowance", "approve", "increaseAllowance",
                                                "transfer", "totalSupply", "decimals")),
                            ("Multicall3", ("aggregate", "aggregate3"))):  # fmt: skip
        compiled = {
            e["name"]: (tuple(abi_type(i) for i in e["inputs"]), tuple(abi_type(o) for o in e["outputs"]))
            for e in load_artifact(contract)["abi"]
            if e["type"] == "function"
        }
        for fn in (v for v in vars(d).values() if isinstance(v, Function) and v.name in names):
            assert (fn.inputs, fn.outputs) == compiled[fn.name], (contract, fn.name)
