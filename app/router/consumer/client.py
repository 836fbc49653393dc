"""MOR-RPC client: one request per TCP connection to a provider, every answer verified before it is used.

Checks beyond the Go consumer's (spec §4.8): the pong echoes our nonce and is signed by the provider's address;
the approval in ``SessionRes`` is signed by the bid's provider for our address, bid and chain before any gas is
spent; every streamed response is signed by the provider key we opened the session with, then decrypted with our
Signer (the private key never leaves it). Leaving an iteration early or cancelling closes the socket at once, which
tells the provider to cancel its backend request.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import coincurve
from eth_utils.crypto import keccak

from app.router.consumer.failures import FailureKind, ProviderFailure
from app.router.morrpc import envelope, signing
from app.router.morrpc.envelope import RpcErrorObject, RpcResponse
from app.router.morrpc.exceptions import MorRpcProtocolError, MorRpcSignatureError
from app.router.morrpc.framing import DEFAULT_MAX_MESSAGE_SIZE, MessageDecoder
from app.router.morrpc.messages import (
    PingReq,
    PongRes,
    SessionPromptReq,
    SessionPromptRes,
    SessionReportReq,
    SessionReportRes,
    SessionReq,
    SessionRes,
)
from app.router.morrpc.prompt import open_prompt_response
from app.router.morrpc.receipts import Approval, CloseoutReceipt, recover_personal_signer
from app.router.morrpc.rpc_errors import open_error
from app.router.morrpc.structs import GoStruct
from app.signer import Signer

__all__ = ["DONE", "Endpoint", "MorRpcClient", "PingResult", "Report", "SessionGrant", "is_final_item"]

DIAL_TIMEOUT_S = 3.0
DONE = "[DONE]"
_READ_SIZE = 64 * 1024
# Within one read, give the event loop a turn after this much work or this many messages, whichever comes first.
TURN_EVERY_S = 0.005
TURN_EVERY_MESSAGES = 16
_S = TypeVar("_S", bound=GoStruct)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A provider's MOR-RPC address, registered on chain as ``host:port`` (a scheme is tolerated)."""

    host: str
    port: int

    @classmethod
    def parse(cls, endpoint: str, provider: str = "") -> Endpoint:
        """Parse ``host:port``; ProviderFailure (connect) when the registered endpoint is unusable."""
        text = endpoint.strip()
        if "://" in text:
            text = text.split("://", 1)[1]
        text = text.split("/", 1)[0]
        host, sep, port = text.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ProviderFailure(
                f"Provider {provider or '?'} registered an unusable endpoint {endpoint!r}; it must be host:port.",
                FailureKind.CONNECT, provider=provider,
            )
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PingResult:
    """A verified pong: round-trip time, the provider's version and its public key (recovered from the pong)."""

    rtt_ms: float
    version: str
    public_key: bytes


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """What ``session.request`` gives: the provider's public key and its checked on-chain approval.

    ``response`` is the provider's signed ``SessionRes`` exactly as received (``to_json()`` gives Go's bytes),
    for callers that hand it on, like ``/proxy/sessions/initiate``.
    """

    provider_pubkey: bytes
    approval: bytes
    approval_sig: bytes
    decoded: Approval
    response: SessionRes


@dataclass(frozen=True, slots=True)
class Report:
    """A provider-signed closeout receipt, checked to be for our session and signed by the provider."""

    receipt: bytes
    signature: bytes
    decoded: CloseoutReceipt


def now_ms() -> int:
    """Unix milliseconds, the unit of every MOR-RPC timestamp."""
    return time.time_ns() // 1_000_000


def is_final_item(item: Any) -> bool:
    """True for an item after which the answer is complete: ``[DONE]`` or a non-streamed completion."""
    if item == DONE:
        return True
    return isinstance(item, dict) and item.get("object") == "chat.completion"


def has_finish_reason(item: Any) -> bool:
    """True for a stream chunk that carries a ``finish_reason`` (the answer's last content chunk)."""
    if not isinstance(item, dict):
        return False
    choices = item.get("choices")
    return isinstance(choices, list) and any(isinstance(c, dict) and c.get("finish_reason") for c in choices)


def _recover_public_key(pong: PongRes) -> bytes | None:
    """The uncompressed key that signed the pong (go-ethereum Ecrecover rules: v < 4), or None."""
    signature = pong.signature
    if signing.recover_address(pong.signing_bytes(), signature) is None:
        return None
    key = coincurve.PublicKey.from_signature_and_message(signature, keccak(pong.signing_bytes()), hasher=None)
    return bytes(key.format(compressed=False))


class MorRpcClient:
    """Talks MOR-RPC to providers on behalf of the wallet behind ``signer``."""

    def __init__(
        self,
        signer: Signer,
        *,
        dial_timeout: float = DIAL_TIMEOUT_S,
        first_message_timeout: float = 90.0,
        idle_timeout: float | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.signer = signer
        self.dial_timeout = dial_timeout
        self.first_message_timeout = first_message_timeout
        # Upstream only bounds the first message; a silent provider mid-answer would otherwise hang forever.
        self.idle_timeout = first_message_timeout if idle_timeout is None else idle_timeout
        self.max_message_size = max_message_size

    # -- transport ---------------------------------------------------------------------------------------------
    async def _dial(self, endpoint: Endpoint, provider: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            async with asyncio.timeout(self.dial_timeout):
                reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
        except TimeoutError:
            raise ProviderFailure(
                f"Provider {provider} at {endpoint} did not accept a connection within {self.dial_timeout:g} s.",
                FailureKind.CONNECT, provider=provider,
            ) from None
        except OSError as e:
            raise ProviderFailure(
                f"Cannot connect to provider {provider} at {endpoint}: {e.strerror or e}.",
                FailureKind.CONNECT, provider=provider,
            ) from e
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return reader, writer

    @asynccontextmanager
    async def _exchange(
        self, endpoint: Endpoint, provider: str, method: str, params: GoStruct
    ) -> AsyncIterator[AsyncGenerator[RpcResponse, None]]:
        """Dial, send one request, and hand out the stream of responses; the socket is aborted on exit."""
        reader, writer = await self._dial(endpoint, provider)
        try:
            request_id = "0" if isinstance(params, PingReq) else secrets.token_hex(4)
            try:
                writer.write(envelope.encode_request(request_id, method, params))
                await writer.drain()
            except OSError as e:
                raise ProviderFailure(
                    f"Provider {provider} at {endpoint} dropped the connection while we sent the request.",
                    FailureKind.CONNECT, provider=provider,
                ) from e
            responses = self._responses(reader, endpoint, provider)
            try:
                yield responses
            finally:
                await responses.aclose()
        finally:
            # abort, not close: no lingering half-close, the provider sees the disconnect at once.
            writer.transport.abort()

    async def _responses(self, reader: asyncio.StreamReader, endpoint: Endpoint, provider: str
                         ) -> AsyncGenerator[RpcResponse, None]:
        decoder = MessageDecoder(self.max_message_size)
        timeout = self.first_message_timeout
        received = 0
        turn_started, since_turn = time.perf_counter(), 0
        while True:
            try:
                async with asyncio.timeout(timeout):
                    data = await reader.read(_READ_SIZE)
            except TimeoutError:
                raise ProviderFailure(
                    f"Provider {provider} at {endpoint} sent nothing for {timeout:g} s "
                    f"({'before its first answer' if received == 0 else 'in the middle of its answer'}).",
                    FailureKind.TIMEOUT, provider=provider, received=received,
                ) from None
            except OSError as e:
                raise ProviderFailure(
                    f"Provider {provider} at {endpoint} dropped the connection: {e.strerror or e}.",
                    FailureKind.EOF, provider=provider, received=received,
                ) from e
            if not data:
                if decoder.has_partial:
                    raise ProviderFailure(
                        f"Provider {provider} closed the connection in the middle of a message.",
                        FailureKind.EOF, provider=provider, received=received,
                    )
                return
            timeout = self.idle_timeout
            try:
                objects = decoder.feed(data)
                responses = [envelope.parse_response(o) for o in objects]
            except MorRpcProtocolError as e:
                raise ProviderFailure(
                    f"Provider {provider} sent a malformed answer: {e.user_message}",
                    FailureKind.PROTOCOL, provider=provider, received=received,
                ) from e
            # One read can hold a backlog of hundreds of responses, each verified and decrypted by our consumer
            # before it asks for the next, and a read of buffered data does not suspend either: hand the loop a
            # turn every few ms / messages so the GUI keeps painting. Order and content are unchanged.
            for response in responses:
                if since_turn >= TURN_EVERY_MESSAGES or time.perf_counter() - turn_started >= TURN_EVERY_S:
                    await asyncio.sleep(0)
                    turn_started, since_turn = time.perf_counter(), 0
                received += 1
                since_turn += 1
                yield response

    async def _single(self, endpoint: Endpoint, provider: str, method: str, params: GoStruct) -> RpcResponse:
        async with self._exchange(endpoint, provider, method, params) as responses:
            async for response in responses:
                return response
        raise ProviderFailure(
            f"Provider {provider} closed the connection without answering {method}.", FailureKind.EOF,
            provider=provider,
        )

    def _error(self, error: RpcErrorObject, provider: str, pubkey: bytes | None, received: int = 0
               ) -> ProviderFailure:
        if error.is_plaintext or pubkey is None:
            return ProviderFailure(
                f"Provider {provider} refused: {error.message[:300]}", FailureKind.REJECTED, provider=provider,
                detail=error.message, received=received,
            )
        try:
            text, detail = open_error(error, self.signer, pubkey)
        except MorRpcSignatureError as e:
            return ProviderFailure(e.user_message, FailureKind.SIGNATURE, provider=provider, received=received)
        except MorRpcProtocolError as e:
            return ProviderFailure(
                f"Provider {provider} sent an unreadable error: {e.user_message}", FailureKind.PROTOCOL,
                provider=provider, received=received,
            )
        return ProviderFailure(
            f"Provider {provider}'s model failed: {text[:500]}", FailureKind.BACKEND, provider=provider,
            detail=detail, received=received,
        )

    # -- methods -----------------------------------------------------------------------------------------------
    async def ping(self, endpoint: Endpoint, provider: str) -> PingResult:
        """``network.ping``: the pong must echo our nonce and be signed by ``provider``'s address."""
        nonce = secrets.token_bytes(8)
        request = signing.sign(PingReq(nonce=nonce), self.signer)
        started = time.perf_counter()
        response = await self._single(endpoint, provider, PingReq.METHOD, request)
        rtt_ms = (time.perf_counter() - started) * 1000
        if response.error is not None:
            raise self._error(response.error, provider, None)
        pong = self._parse(PongRes, response.result, provider)
        if pong.nonce != nonce:
            raise ProviderFailure(f"Provider {provider} answered the ping with another nonce.",
                                  FailureKind.PROTOCOL, provider=provider)
        public_key = _recover_public_key(pong)
        if public_key is None or signing.public_key_to_address(public_key).lower() != provider.lower():
            raise ProviderFailure(f"The pong from {endpoint} is not signed by provider {provider}.",
                                  FailureKind.SIGNATURE, provider=provider)
        return PingResult(rtt_ms, pong.version, public_key)

    async def request_session(
        self, endpoint: Endpoint, provider: str, bid_id: bytes, spend: int, chain_id: int
    ) -> SessionGrant:
        """``session.request``: ask for an approval and check it before any gas is spent on it."""
        request = signing.sign(
            SessionReq(user=self.signer.address, key=self.signer.public_key, spend=spend, timestamp=now_ms(),
                       bid_id=bid_id),
            self.signer,
        )
        response = await self._single(endpoint, provider, SessionReq.METHOD, request)
        if response.error is not None:
            raise self._error(response.error, provider, None)
        res = self._parse(SessionRes, response.result, provider)
        bad = self._check_grant(res, provider, bid_id, chain_id)
        if bad:
            raise ProviderFailure(f"Provider {provider} sent an unusable approval: {bad}.",
                                  FailureKind.SIGNATURE, provider=provider)
        return SessionGrant(res.pub_key, res.approval, res.approval_sig, Approval.decode(res.approval), res)

    def _check_grant(self, res: SessionRes, provider: str, bid_id: bytes, chain_id: int) -> str:
        """Empty when the approval is right, else what is wrong with it."""
        try:
            key_owner = signing.public_key_to_address(res.pub_key)
        except (ValueError, TypeError):
            return "its public key is not a valid key"
        if key_owner.lower() != provider.lower():
            return f"its public key belongs to {key_owner}, not the bid's provider"
        if not signing.verify(res, res.pub_key):
            return "the response is not signed by its key"
        try:
            approval = Approval.decode(res.approval)
            approver = recover_personal_signer(res.approval, res.approval_sig)
        except MorRpcProtocolError as e:
            return e.user_message
        if approver.lower() != provider.lower():
            return f"the approval is signed by {approver}, not the bid's provider"
        if approval.bid_id != bid_id:
            return "the approval is for another bid"
        if approval.user.lower() != self.signer.address.lower():
            return "the approval is for another user"
        if approval.chain_id != chain_id:
            return f"the approval is for chain {approval.chain_id}, not {chain_id}"
        return ""

    async def prompt(
        self, endpoint: Endpoint, provider: str, provider_pubkey: bytes, session_id: bytes, body: str
    ) -> AsyncGenerator[Any, None]:
        """``session.prompt``: yield each decrypted answer item (OpenAI chunk dicts, then ``"[DONE]"``).

        Raises ProviderFailure on any failure, including the connection closing before the answer finished.
        """
        request = signing.sign(
            SessionPromptReq(session_id=session_id, message=body, timestamp=now_ms()), self.signer
        )
        finished = False
        received = 0
        async with self._exchange(endpoint, provider, SessionPromptReq.METHOD, request) as responses:
            async for response in responses:
                if response.error is not None:
                    raise self._error(response.error, provider, provider_pubkey, received)
                item = self._open_item(response, provider, provider_pubkey, received)
                received += 1
                yield item
                if is_final_item(item):
                    return
                finished = finished or has_finish_reason(item)
        if not finished:
            raise ProviderFailure(
                f"Provider {provider} closed the connection before the answer was complete.", FailureKind.EOF,
                provider=provider, received=received,
            )

    def _open_item(self, response: RpcResponse, provider: str, pubkey: bytes, received: int) -> Any:
        try:
            res = SessionPromptRes.from_obj(response.result, "result")
            payload = open_prompt_response(res, self.signer, pubkey)
        except MorRpcSignatureError as e:
            raise ProviderFailure(e.user_message, FailureKind.SIGNATURE, provider=provider, received=received) from e
        except MorRpcProtocolError as e:
            raise ProviderFailure(f"Provider {provider} sent an unreadable answer: {e.user_message}",
                                  FailureKind.PROTOCOL, provider=provider, received=received) from e
        try:
            return json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise ProviderFailure(f"Provider {provider} sent an answer that is not JSON.", FailureKind.PROTOCOL,
                                  provider=provider, received=received) from e

    async def report(self, endpoint: Endpoint, provider: str, provider_pubkey: bytes, session_id: bytes,
                     chain_id: int) -> Report:
        """``session.report``: the provider's signed closeout receipt for our session."""
        request = signing.sign(
            SessionReportReq(message="0x" + session_id.hex(), timestamp=now_ms()), self.signer
        )
        response = await self._single(endpoint, provider, SessionReportReq.METHOD, request)
        if response.error is not None:
            raise self._error(response.error, provider, provider_pubkey)
        res = self._parse(SessionReportRes, response.result, provider)
        if not signing.verify(res, provider_pubkey):
            raise ProviderFailure(f"The report from {provider} is not signed by its key.", FailureKind.SIGNATURE,
                                  provider=provider)
        try:
            decoded = CloseoutReceipt.decode(res.message)
            signer = recover_personal_signer(res.message, res.signed_report)
        except MorRpcProtocolError as e:
            raise ProviderFailure(f"Provider {provider} sent an unusable report: {e.user_message}",
                                  FailureKind.PROTOCOL, provider=provider) from e
        if signer.lower() != provider.lower() or decoded.session_id != session_id or decoded.chain_id != chain_id:
            raise ProviderFailure(f"Provider {provider} sent a report for another session, chain or signer.",
                                  FailureKind.SIGNATURE, provider=provider)
        return Report(res.message, res.signed_report, decoded)

    @staticmethod
    def _parse(cls: type[_S], result: Any, provider: str) -> _S:
        try:
            return cls.from_obj(result, "result")
        except MorRpcProtocolError as e:
            raise ProviderFailure(f"Provider {provider} sent a malformed answer: {e.user_message}",
                                  FailureKind.PROTOCOL, provider=provider) from e
