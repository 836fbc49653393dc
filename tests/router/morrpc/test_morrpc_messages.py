"""The message catalogue: Go-identical bytes per message type, strict parsing, envelopes.

Known answers were written by hand from the Go struct definitions (spec §4.4 field order, json tags,
``omitempty`` on ``signature?``) and Go's encoding rules (§4.2): ``lib.HexString``/``common.Hash`` →
lower-case ``"0x…"``, ``common.Address`` → lower-case, not checksummed; ``lib.BigInt`` → quoted decimal;
uint64/int → bare number; strings escaped as in test_morrpc_gojson. Repeated hex is spelled
``"11" * 32`` to keep the vectors readable.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.router.morrpc import envelope
from app.router.morrpc import messages as m
from app.router.morrpc.exceptions import MorRpcProtocolError
from app.router.morrpc.framing import decode_object
from app.router.morrpc.structs import GoStruct

SID = bytes.fromhex("11" * 32)
BID = bytes.fromhex("22" * 32)
USER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
USER_LOWER = USER.lower()
KEY = b"\x04" + b"\xab" * 64
SIG = b"\x5a" * 64 + b"\x01"
SIG_HEX = "0x" + "5a" * 64 + "01"
TS = 1717171717171
TRICKY = 'say <hi> & "bye"\n\u2028 \U0001f600 caf\u00e9 \x01\x7f'
TRICKY_GO = '"say \\u003chi\\u003e \\u0026 \\"bye\\"\\n\\u2028 \U0001f600 caf\u00e9 \\u0001\x7f"'

CASES: list[tuple[GoStruct, str]] = [
    (m.PingReq(nonce=bytes.fromhex("0102030405060708")), '{"nonce":"0x0102030405060708","signature":"0x"}'),
    (
        m.PongRes(nonce=bytes.fromhex("0102030405060708"), version="v7.1.0", signature=SIG),
        '{"nonce":"0x0102030405060708","version":"v7.1.0","signature":"' + SIG_HEX + '"}',
    ),
    (m.PongRes(nonce=b"\x01"), '{"nonce":"0x01","signature":"0x"}'),
    (
        m.SessionReq(user=USER, key=KEY, spend=10**21, timestamp=TS, bid_id=BID),
        '{"user":"' + USER_LOWER + '","key":"0x04' + "ab" * 64 + '","spend":"1000000000000000000000",'
        '"timestamp":1717171717171,"bidid":"0x' + "22" * 32 + '"}',
    ),
    (
        m.SessionReq(user=USER, key=KEY, spend=0, timestamp=TS, bid_id=BID, signature=SIG),
        '{"signature":"' + SIG_HEX + '","user":"' + USER_LOWER + '","key":"0x04' + "ab" * 64 + '","spend":"0",'
        '"timestamp":1717171717171,"bidid":"0x' + "22" * 32 + '"}',
    ),
    (
        m.SessionRes(pub_key=KEY, approval=b"\x00" * 128, approval_sig=b"\x1b" * 65, user=USER, timestamp=TS),
        '{"message":"0x04'
        + "ab" * 64
        + '","approval":"0x'
        + "00" * 128
        + '","approvalSig":"0x'
        + "1b" * 65
        + '","user":"'
        + USER_LOWER
        + '","timestamp":1717171717171}',
    ),
    (
        m.SessionPromptReq(session_id=SID, message=TRICKY, timestamp=TS, signature=SIG),
        '{"signature":"'
        + SIG_HEX
        + '","sessionid":"0x'
        + "11" * 32
        + '","message":'
        + TRICKY_GO
        + ',"timestamp":1717171717171}',
    ),
    (
        m.SessionPromptReq(session_id=SID, message='{"model":"m","stream":true}', timestamp=1),
        '{"sessionid":"0x' + "11" * 32 + '","message":"{\\"model\\":\\"m\\",\\"stream\\":true}","timestamp":1}',
    ),
    (m.SessionPromptRes(message="04abcdef", timestamp=TS), '{"message":"04abcdef","timestamp":1717171717171}'),
    (
        m.SessionPromptRes(message="04abcdef", timestamp=TS, signature=SIG),
        '{"message":"04abcdef","signature":"' + SIG_HEX + '","timestamp":1717171717171}',
    ),
    (
        m.SessionReportReq(message="0x" + "11" * 32, timestamp=TS),
        '{"message":"0x' + "11" * 32 + '","timestamp":1717171717171}',
    ),
    (
        m.SessionReportRes(message=b"\x01\x02", signed_report=b"\x03", timestamp=TS),
        '{"message":"0x0102","signedReport":"0x03","timestamp":1717171717171}',
    ),
    (
        m.StreamStartReq(
            session_id=SID, stream_id="s-1", total_chunks=3, file_size=2_500_000, content_type="audio/wav", timestamp=TS
        ),
        '{"sessionid":"0x' + "11" * 32 + '","streamid":"s-1","totalchunks":3,"filesize":2500000,'
        '"contenttype":"audio/wav","signature":"0x","timestamp":1717171717171}',
    ),
    (
        m.StreamStartRes(stream_id="s-1", status="started", timestamp=TS),
        '{"streamid":"s-1","status":"started","signature":"0x","timestamp":1717171717171}',
    ),
    (
        m.StreamChunkReq(
            session_id=SID, stream_id="s-1", chunk_index=0, chunk_data="AAEC/w==", is_last_chunk=False, timestamp=TS
        ),
        '{"sessionid":"0x' + "11" * 32 + '","streamid":"s-1","chunkindex":0,"chunkdata":"AAEC/w==",'
        '"islastchunk":false,"timestamp":1717171717171}',
    ),
    (
        m.StreamChunkRes(stream_id="s-1", chunk_index=2, status="received", timestamp=TS),
        '{"streamid":"s-1","chunkindex":2,"status":"received","timestamp":1717171717171}',
    ),
    (
        m.StreamEndReq(session_id=SID, stream_id="s-1", audio_request_param='{"language":"en"}', timestamp=TS),
        '{"sessionid":"0x' + "11" * 32 + '","streamid":"s-1","audiorequestparam":"{\\"language\\":\\"en\\"}",'
        '"timestamp":1717171717171}',
    ),
    (
        m.StreamEndRes(stream_id="s-1", message="done", timestamp=TS),
        '{"streamid":"s-1","message":"done","timestamp":1717171717171}',
    ),
    (
        m.GetAgentToolsReq(session_id=SID, timestamp=TS),
        '{"sessionid":"0x' + "11" * 32 + '","timestamp":1717171717171}',
    ),
    (m.GetAgentToolsRes(message="[]", timestamp=TS), '{"message":"[]","timestamp":1717171717171}'),
    (
        m.CallAgentToolReq(session_id=SID, tool_name="search", message='{"q":"a&b"}', timestamp=TS),
        '{"sessionid":"0x' + "11" * 32 + '","toolname":"search","message":"{\\"q\\":\\"a\\u0026b\\"}",'
        '"timestamp":1717171717171}',
    ),
    (m.CallAgentToolRes(message="ok", timestamp=TS), '{"message":"ok","timestamp":1717171717171}'),
]


@pytest.mark.parametrize(
    ("message", "expected"), CASES, ids=lambda v: type(v).__name__ if isinstance(v, GoStruct) else ""
)
def test_message_encodes_to_the_bytes_go_marshals(message: GoStruct, expected: str) -> None:
    assert message.to_json() == expected.encode("utf-8")


@pytest.mark.parametrize(
    ("message", "expected"), CASES, ids=lambda v: type(v).__name__ if isinstance(v, GoStruct) else ""
)
def test_message_round_trips_and_reencodes_byte_for_byte(message: GoStruct, expected: str) -> None:
    parsed = type(message).from_obj(decode_object(expected.encode("utf-8")))
    assert parsed == message
    assert parsed.to_json() == expected.encode("utf-8")


def test_every_method_has_request_and_result_types() -> None:
    methods = {
        "network.ping",
        "session.request",
        "session.prompt",
        "session.report",
        "session.prompt.stream.start",
        "session.prompt.stream.chunk",
        "session.prompt.stream.end",
        "agent.get_tools",
        "agent.call_tool",
    }
    assert set(m.REQUEST_TYPES) == methods
    assert set(m.RESULT_TYPES) == methods


def test_signing_bytes_omit_an_omitempty_signature() -> None:
    signed = m.SessionPromptReq(session_id=SID, message="x", timestamp=1, signature=SIG)
    assert signed.signing_bytes() == b'{"sessionid":"0x' + b"11" * 32 + b'","message":"x","timestamp":1}'


def test_signing_bytes_keep_a_non_omitempty_signature_as_0x() -> None:
    pong = m.PongRes(nonce=b"\x01", signature=SIG)
    assert pong.signing_bytes() == b'{"nonce":"0x01","signature":"0x"}'


def _prompt_obj(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"signature": SIG_HEX, "sessionid": "0x" + "11" * 32, "message": "hi", "timestamp": TS}
    obj.update(overrides)
    return obj


def test_incoming_hex_may_omit_0x_and_use_upper_case() -> None:
    parsed = m.SessionPromptReq.from_obj(_prompt_obj(signature=SIG_HEX[2:].upper(), sessionid="11" * 32))
    assert parsed.signature == SIG
    assert parsed.session_id == SID
    assert parsed.to_json().startswith(b'{"signature":"' + SIG_HEX.encode() + b'"')


def test_odd_length_hex_is_zero_padded_like_go_fromhex() -> None:
    assert m.PongRes.from_obj({"nonce": "0x102", "signature": "0x"}).nonce == b"\x01\x02"


def test_unknown_fields_are_ignored_as_go_does() -> None:
    parsed = m.SessionPromptReq.from_obj(_prompt_obj(extra={"nested": [1, 2]}, model="x"))
    assert parsed == m.SessionPromptReq.from_obj(_prompt_obj())


def test_keys_match_case_insensitively_as_go_does() -> None:
    parsed = m.SessionPromptReq.from_obj(
        {"Signature": SIG_HEX, "SessionID": "11" * 32, "MESSAGE": "hi", "timeStamp": 5}
    )
    assert (parsed.message, parsed.timestamp, parsed.signature) == ("hi", 5, SIG)


def test_key_folding_follows_gos_unicode_simple_folding() -> None:
    # Go's foldName treats U+017F (long s) as s and U+212A (Kelvin sign) as k, but not ß as ss.
    parsed = m.CallAgentToolRes.from_obj({"meſſage": "a", "timestamp": 1, "\u212a": "ignored"})
    assert parsed.message == "a"
    with pytest.raises(MorRpcProtocolError, match="missing"):
        m.CallAgentToolRes.from_obj({"meßage": "a", "timestamp": 1})


def test_missing_omitempty_signature_parses_as_unsigned() -> None:
    obj = _prompt_obj()
    del obj["signature"]
    assert m.SessionPromptReq.from_obj(obj).signature == b""


def test_spend_is_accepted_as_string_or_number() -> None:
    base = {"user": USER_LOWER, "key": "0x04" + "ab" * 64, "timestamp": TS, "bidid": "0x" + "22" * 32}
    assert m.SessionReq.from_obj({**base, "spend": "12345"}).spend == 12345
    assert m.SessionReq.from_obj({**base, "spend": 12345}).spend == 12345


def test_parsed_address_is_checksummed_and_encoded_lower_case() -> None:
    base = {
        "user": USER_LOWER.upper().replace("0X", "0x"),
        "key": "0x04" + "ab" * 64,
        "spend": "1",
        "timestamp": TS,
        "bidid": "0x" + "22" * 32,
    }
    parsed = m.SessionReq.from_obj(base)
    assert parsed.user == USER
    assert b'"user":"' + USER_LOWER.encode() + b'"' in parsed.to_json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"timestamp": "1717171717171"}, "params.timestamp"),
        ({"timestamp": -1}, "params.timestamp"),
        ({"timestamp": 1 << 64}, "params.timestamp"),
        ({"timestamp": True}, "params.timestamp"),
        ({"timestamp": 1.5}, "params.timestamp"),
        ({"sessionid": "0x1234"}, "params.sessionid"),
        ({"sessionid": "0x" + "zz" * 32}, "params.sessionid"),
        ({"sessionid": 17}, "params.sessionid"),
        ({"message": ["not", "a", "string"]}, "params.message"),
        ({"signature": "0xnothex"}, "params.signature"),
        ({"signature": "0x" + "00" * 66}, "params.signature"),
        ({"signature": "0x" + "00" * 5000}, "params.signature"),
    ],
)
def test_malformed_fields_raise_a_protocol_error_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(MorRpcProtocolError) as info:
        m.SessionPromptReq.from_obj(_prompt_obj(**overrides))
    assert info.value.field == field
    assert field in info.value.user_message


@pytest.mark.parametrize("missing", ["sessionid", "message", "timestamp"])
def test_missing_required_field_raises_a_protocol_error_naming_it(missing: str) -> None:
    obj = _prompt_obj()
    del obj[missing]
    with pytest.raises(MorRpcProtocolError, match="is missing") as info:
        m.SessionPromptReq.from_obj(obj)
    assert info.value.field == f"params.{missing}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spend", "-5"),
        ("spend", "1e3"),
        ("spend", str(1 << 256)),
        ("spend", True),
        ("key", "0x04ab"),
        ("user", "0x1234"),
        ("bidid", "0x" + "22" * 31),
    ],
)
def test_session_request_rejects_bad_values(field: str, value: Any) -> None:
    base = {"user": USER_LOWER, "key": "0x04" + "ab" * 64, "spend": "1", "timestamp": TS, "bidid": "0x" + "22" * 32}
    with pytest.raises(MorRpcProtocolError) as info:
        m.SessionReq.from_obj({**base, field: value})
    assert info.value.field == f"params.{field}"


def test_params_that_are_not_an_object_are_rejected() -> None:
    with pytest.raises(MorRpcProtocolError, match="must be a JSON object"):
        m.SessionPromptReq.from_obj(["x"])


def test_constructing_a_message_with_a_wrong_type_fails_fast() -> None:
    with pytest.raises(TypeError, match="session_id"):
        m.SessionPromptReq(session_id=b"\x01", message="x", timestamp=1)
    with pytest.raises(TypeError, match="timestamp"):
        m.SessionPromptReq(session_id=SID, message="x", timestamp=-1)


def test_request_envelope_is_encoded_in_go_field_order() -> None:
    ping = m.PingReq(nonce=b"\x01\x02")
    assert envelope.encode_request("0", m.METHOD_PING, ping) == (
        b'{"id":"0","method":"network.ping","params":{"nonce":"0x0102","signature":"0x"}}'
    )


def test_result_envelope_omits_the_error_key() -> None:
    res = m.CallAgentToolRes(message="ok", timestamp=1)
    assert envelope.encode_result("ab12", res) == b'{"id":"ab12","result":{"message":"ok","timestamp":1}}'


def test_error_envelope_has_null_result_and_nested_data() -> None:
    err = envelope.RpcErrorObject(message="Session is closed", timestamp=7, signature=b"\x00")
    assert envelope.encode_error("x", err) == (
        b'{"id":"x","result":null,"error":{"message":"Session is closed","code":400,'
        b'"data":{"timestamp":7,"signature":"0x00"}}}'
    )


def test_error_object_with_nil_signature_encodes_null() -> None:
    err = envelope.RpcErrorObject(message="m", code=500, timestamp=1)
    assert err.to_json() == b'{"message":"m","code":500,"data":{"timestamp":1,"signature":null}}'


def test_request_envelope_parses_and_dispatches_by_method() -> None:
    wire = envelope.encode_request(
        "r1", m.METHOD_SESSION_PROMPT, m.SessionPromptReq(session_id=SID, message="q", timestamp=1)
    )
    request = envelope.parse_request(json.loads(wire))
    assert (request.id, request.method) == ("r1", "session.prompt")
    assert m.parse_params(request.method, request.params) == m.SessionPromptReq(
        session_id=SID, message="q", timestamp=1
    )


def test_unknown_method_is_a_protocol_error() -> None:
    with pytest.raises(MorRpcProtocolError, match="unknown MOR-RPC method"):
        m.parse_params("session.steal", {})


@pytest.mark.parametrize(
    "obj",
    [
        [],
        {"id": 5, "method": "x", "params": {}},
        {"id": "1", "params": {}},
        {"id": "1", "method": "x"},
        {"id": "1", "method": "", "params": {}},
    ],
)
def test_malformed_request_envelopes_are_rejected(obj: Any) -> None:
    with pytest.raises(MorRpcProtocolError):
        envelope.parse_request(obj)


def test_response_envelope_parses_error_and_result() -> None:
    ok = envelope.parse_response({"id": "1", "result": {"message": "x", "timestamp": 1}})
    assert ok.error is None
    assert m.parse_result(m.METHOD_AGENT_CALL_TOOL, ok.result) == m.CallAgentToolRes(message="x", timestamp=1)
    failed = envelope.parse_response(
        {
            "id": "1",
            "result": None,
            "error": {"message": "no capacity", "code": 400, "data": {"timestamp": 3, "signature": "0x00"}},
        }
    )
    assert failed.error == envelope.RpcErrorObject(message="no capacity", timestamp=3, signature=b"\x00")


@pytest.mark.parametrize(
    "obj",
    [
        {"id": "1"},
        {"id": "1", "result": None},
        {"id": "1", "error": "boom"},
        {"id": "1", "error": {"message": 5}},
        {"id": "1", "error": {"message": "m", "data": {"timestamp": -1}}},
        {"id": "1", "error": {"message": "m", "data": {"signature": "0xzz"}}},
    ],
)
def test_malformed_response_envelopes_are_rejected(obj: Any) -> None:
    with pytest.raises(MorRpcProtocolError):
        envelope.parse_response(obj)
