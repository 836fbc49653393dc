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
