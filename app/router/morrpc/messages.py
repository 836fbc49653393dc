"""The MOR-RPC message catalogue (spec §4.4): one frozen dataclass per Go struct, fields in Go order.

Python types per kind: hex fields are ``bytes``; hashes (bid and session ids) are 32 ``bytes``;
addresses are checksummed ``str`` (encoded lower-case); ``spend`` is an ``int`` (encoded as a decimal
string); timestamps are ``int`` milliseconds. Every message has ``signature: bytes`` (``b""`` = unsigned).

Build a message, sign it with :func:`app.router.morrpc.signing.sign`, wrap it with
:func:`app.router.morrpc.envelope.encode_request` / ``encode_result``. Parse with
``Class.from_obj(decoded_json)`` or :func:`parse_params` / :func:`parse_result` by method name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from app.router.morrpc.exceptions import MorRpcProtocolError
from app.router.morrpc.structs import Field, GoStruct, Kind

__all__ = [
    "METHOD_AGENT_CALL_TOOL",
    "METHOD_AGENT_GET_TOOLS",
    "METHOD_PING",
    "METHOD_SESSION_PROMPT",
    "METHOD_SESSION_REPORT",
    "METHOD_SESSION_REQUEST",
    "METHOD_STREAM_CHUNK",
    "METHOD_STREAM_END",
    "METHOD_STREAM_START",
    "REQUEST_TYPES",
    "RESULT_TYPES",
    "CallAgentToolReq",
    "CallAgentToolRes",
    "GetAgentToolsReq",
    "GetAgentToolsRes",
    "PingReq",
    "PongRes",
    "SessionPromptReq",
    "SessionPromptRes",
    "SessionReportReq",
    "SessionReportRes",
    "SessionReq",
    "SessionRes",
    "StreamChunkReq",
    "StreamChunkRes",
    "StreamEndReq",
    "StreamEndRes",
    "StreamStartReq",
    "StreamStartRes",
    "parse_params",
    "parse_result",
]

METHOD_PING = "network.ping"
METHOD_SESSION_REQUEST = "session.request"
METHOD_SESSION_PROMPT = "session.prompt"
METHOD_SESSION_REPORT = "session.report"
METHOD_STREAM_START = "session.prompt.stream.start"
METHOD_STREAM_CHUNK = "session.prompt.stream.chunk"
METHOD_STREAM_END = "session.prompt.stream.end"
METHOD_AGENT_GET_TOOLS = "agent.get_tools"
METHOD_AGENT_CALL_TOOL = "agent.call_tool"

_PUBKEY_LEN = 65
_SIG_MAX = 65
_BLOB_MAX = 4096

SIG_OMITEMPTY = Field("signature", "signature", Kind.HEX, omitempty=True, max_len=_SIG_MAX)
SIG_ALWAYS = Field("signature", "signature", Kind.HEX, max_len=_SIG_MAX)
TIMESTAMP = Field("timestamp", "timestamp", Kind.UINT64)
SESSION_ID = Field("sessionid", "session_id", Kind.HASH)
STREAM_ID = Field("streamid", "stream_id", Kind.STRING)


@dataclass(frozen=True, slots=True, kw_only=True)
class PingReq(GoStruct):
    """``network.ping`` params. Go signs it over ``"signature":"0x"``; providers never check it."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("nonce", "nonce", Kind.HEX, max_len=64),
        Field("signature", "signature", Kind.HEX, max_len=_SIG_MAX, optional=True),
    )
    METHOD: ClassVar[str] = METHOD_PING
    nonce: bytes
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class PongRes(GoStruct):
    """``network.ping`` result: the nonce echoed, signed by the provider (checked by ecrecover)."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("nonce", "nonce", Kind.HEX, max_len=64),
        Field("version", "version", Kind.STRING, omitempty=True),
        SIG_ALWAYS,
    )
    METHOD: ClassVar[str] = METHOD_PING
    nonce: bytes
    version: str = ""
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionReq(GoStruct):
    """``session.request`` params: the consumer asks for an on-chain approval for a bid."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        SIG_OMITEMPTY,
        Field("user", "user", Kind.ADDRESS),
        Field("key", "key", Kind.HEX, exact_len=_PUBKEY_LEN),
        Field("spend", "spend", Kind.BIGINT),
        TIMESTAMP,
        Field("bidid", "bid_id", Kind.HASH),
    )
    METHOD: ClassVar[str] = METHOD_SESSION_REQUEST
    user: str
    key: bytes  # the consumer's uncompressed 65-byte public key; the signature is checked against it
    spend: int
    timestamp: int
    bid_id: bytes
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRes(GoStruct):
    """``session.request`` result: the provider's public key and the signed on-chain approval."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("message", "pub_key", Kind.HEX, exact_len=_PUBKEY_LEN),
        Field("approval", "approval", Kind.HEX, max_len=_BLOB_MAX),
        Field("approvalSig", "approval_sig", Kind.HEX, max_len=_SIG_MAX),
        Field("user", "user", Kind.ADDRESS),
        TIMESTAMP,
        SIG_OMITEMPTY,
    )
    METHOD: ClassVar[str] = METHOD_SESSION_REQUEST
    pub_key: bytes
    approval: bytes
    approval_sig: bytes
    user: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPromptReq(GoStruct):
    """``session.prompt`` params: ``message`` is the plaintext OpenAI request JSON, as a string."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        SIG_OMITEMPTY,
        SESSION_ID,
        Field("message", "message", Kind.STRING),
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_SESSION_PROMPT
    session_id: bytes
    message: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPromptRes(GoStruct):
    """One streamed prompt response: ``message`` is hex ECIES ciphertext (no 0x), one per backend chunk.

    ``message`` is a raw JSON value (Go's consumer decodes it as ``json.RawMessage``); it is a ``str``
    in every response a correct provider sends.
    """

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("message", "message", Kind.RAW),
        SIG_OMITEMPTY,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_SESSION_PROMPT
    message: Any
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionReportReq(GoStruct):
    """``session.report`` params: ``message`` is the session id as hex (the closeout request)."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        SIG_OMITEMPTY,
        Field("message", "message", Kind.STRING),
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_SESSION_REPORT
    message: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionReportRes(GoStruct):
    """``session.report`` result: the ABI-encoded closeout receipt and its EIP-191 signature."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("message", "message", Kind.HEX, max_len=_BLOB_MAX),
        Field("signedReport", "signed_report", Kind.HEX, max_len=_SIG_MAX),
        SIG_OMITEMPTY,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_SESSION_REPORT
    message: bytes
    signed_report: bytes
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamStartReq(GoStruct):
    """``session.prompt.stream.start`` params: announce an upload (audio) split into chunks."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        SESSION_ID,
        STREAM_ID,
        Field("totalchunks", "total_chunks", Kind.UINT64),
        Field("filesize", "file_size", Kind.INT64),
        Field("contenttype", "content_type", Kind.STRING),
        SIG_ALWAYS,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_STREAM_START
    session_id: bytes
    stream_id: str
    total_chunks: int
    file_size: int
    content_type: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamStartRes(GoStruct):
    """``session.prompt.stream.start`` result: ``status`` is ``"started"``."""

    FIELDS: ClassVar[tuple[Field, ...]] = (STREAM_ID, Field("status", "status", Kind.STRING), SIG_ALWAYS, TIMESTAMP)
    METHOD: ClassVar[str] = METHOD_STREAM_START
    stream_id: str
    status: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamChunkReq(GoStruct):
    """``session.prompt.stream.chunk`` params: ``chunk_data`` is base64 of a ≤ 1 MiB slice."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        SESSION_ID,
        STREAM_ID,
        Field("chunkindex", "chunk_index", Kind.UINT64),
        Field("chunkdata", "chunk_data", Kind.STRING),
        Field("islastchunk", "is_last_chunk", Kind.BOOL),
        SIG_OMITEMPTY,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_STREAM_CHUNK
    session_id: bytes
    stream_id: str
    chunk_index: int
    chunk_data: str
    is_last_chunk: bool
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamChunkRes(GoStruct):
    """``session.prompt.stream.chunk`` result: ``status`` is ``"received"``."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        STREAM_ID,
        Field("chunkindex", "chunk_index", Kind.UINT64),
        Field("status", "status", Kind.STRING),
        SIG_OMITEMPTY,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_STREAM_CHUNK
    stream_id: str
    chunk_index: int
    status: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEndReq(GoStruct):
    """``session.prompt.stream.end`` params; the answer streams like ``session.prompt``."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        SESSION_ID,
        STREAM_ID,
        Field("audiorequestparam", "audio_request_param", Kind.STRING),
        SIG_OMITEMPTY,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_STREAM_END
    session_id: bytes
    stream_id: str
    audio_request_param: str  # a JSON string
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEndRes(GoStruct):
    """A stream-end result struct that upstream defines but never sends (kept for completeness)."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        STREAM_ID,
        Field("message", "message", Kind.STRING),
        SIG_OMITEMPTY,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_STREAM_END
    stream_id: str
    message: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAgentToolsReq(GoStruct):
    """``agent.get_tools`` params."""

    FIELDS: ClassVar[tuple[Field, ...]] = (SESSION_ID, SIG_OMITEMPTY, TIMESTAMP)
    METHOD: ClassVar[str] = METHOD_AGENT_GET_TOOLS
    session_id: bytes
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAgentToolsRes(GoStruct):
    """``agent.get_tools`` result."""

    FIELDS: ClassVar[tuple[Field, ...]] = (Field("message", "message", Kind.STRING), SIG_OMITEMPTY, TIMESTAMP)
    METHOD: ClassVar[str] = METHOD_AGENT_GET_TOOLS
    message: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAgentToolReq(GoStruct):
    """``agent.call_tool`` params: ``message`` is the JSON of the tool input."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        SESSION_ID,
        Field("toolname", "tool_name", Kind.STRING),
        Field("message", "message", Kind.STRING),
        SIG_OMITEMPTY,
        TIMESTAMP,
    )
    METHOD: ClassVar[str] = METHOD_AGENT_CALL_TOOL
    session_id: bytes
    tool_name: str
    message: str
    timestamp: int
    signature: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAgentToolRes(GoStruct):
    """``agent.call_tool`` result."""

    FIELDS: ClassVar[tuple[Field, ...]] = (Field("message", "message", Kind.STRING), SIG_OMITEMPTY, TIMESTAMP)
    METHOD: ClassVar[str] = METHOD_AGENT_CALL_TOOL
    message: str
    timestamp: int
    signature: bytes = b""


REQUEST_TYPES: dict[str, type[GoStruct]] = {
    cls.METHOD: cls
    for cls in (
        PingReq,
        SessionReq,
        SessionPromptReq,
        SessionReportReq,
        StreamStartReq,
        StreamChunkReq,
        StreamEndReq,
        GetAgentToolsReq,
        CallAgentToolReq,
    )
}

# stream.end answers like session.prompt (a stream of SessionPromptRes).
RESULT_TYPES: dict[str, type[GoStruct]] = {
    METHOD_PING: PongRes,
    METHOD_SESSION_REQUEST: SessionRes,
    METHOD_SESSION_PROMPT: SessionPromptRes,
    METHOD_SESSION_REPORT: SessionReportRes,
    METHOD_STREAM_START: StreamStartRes,
    METHOD_STREAM_CHUNK: StreamChunkRes,
    METHOD_STREAM_END: SessionPromptRes,
    METHOD_AGENT_GET_TOOLS: GetAgentToolsRes,
    METHOD_AGENT_CALL_TOOL: CallAgentToolRes,
}


def parse_params(method: str, params: Any) -> GoStruct:
    """Parse request params for ``method``; an unknown method is a protocol error."""
    cls = REQUEST_TYPES.get(method)
    if cls is None:
        raise MorRpcProtocolError(f"The peer asked for an unknown MOR-RPC method {method[:64]!r}.", "method")
    return cls.from_obj(params, "params")


def parse_result(method: str, result: Any) -> GoStruct:
    """Parse a response ``result`` as the result type of ``method``."""
    cls = RESULT_TYPES.get(method)
    if cls is None:
        raise MorRpcProtocolError(f"No result type is known for MOR-RPC method {method[:64]!r}.", "method")
    return cls.from_obj(result, "result")
