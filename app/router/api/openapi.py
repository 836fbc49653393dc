"""Our OpenAPI 3 document: built from the route table and the schemas below, committed in resources/openapi/.

Regenerate after changing a route: ``python -m app.router.api.openapi`` (a test fails while the file is stale).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.paths import resources_dir
from app.router.api.spec import Route

S = dict[str, Any]
STR: S = {"type": "string"}
INT: S = {"type": "integer"}
BOOL: S = {"type": "boolean"}
NUM: S = {"type": "number"}
WEI: S = {"type": "string", "description": "wei as a decimal string", "example": "1000000000000000000"}
BIGNUM: S = {"type": "integer", "description": "bare JSON number, may exceed 2^53 (Go *big.Int)"}
HEX32: S = {"type": "string", "example": "0x" + "ab" * 32}
ADDR: S = {"type": "string", "example": "0x" + "12" * 20}


def ref(name: str) -> S:
    return {"$ref": f"#/components/schemas/{name}"}


def arr(items: S) -> S:
    return {"type": "array", "items": items}


def obj(props: dict[str, S], required: Sequence[str] = ()) -> S:
    out: S = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    return out


SCHEMAS: dict[str, S] = {
    "ErrorRes": obj({"error": STR}, ["error"]),
    "ResultRes": obj({"result": BOOL}),
    "StatusRes": obj({"status": STR}),
    "PathRes": obj({"path": STR}),
    "TxRes": obj({"tx": HEX32}),
    "HealthCheckRes": obj({"status": {"type": "string", "enum": ["healthy", "degraded"]}, "version": STR,
                           "uptime": STR, "components": {"type": "object", "additionalProperties": STR}}),
    "ConfigRes": obj({"Version": STR, "Commit": STR, "Config": {"type": "object"},
                      "DerivedConfig": obj({"WalletAddress": ADDR, "ChainID": INT, "EthNodeURLs": arr(STR)})}),
    "SetEthNodeReq": obj({"urls": arr(STR)}, ["urls"]),
    "AddUserReq": obj({"username": STR, "password": STR, "perms": arr(STR)}, ["username", "password", "perms"]),
    "RemoveUserReq": obj({"username": STR}, ["username"]),
    "RequestAgentUserReq": obj({"username": STR, "password": STR, "perms": arr(STR),
                                "allowances": {"type": "object", "additionalProperties": STR}},
                               ["username", "password", "perms"]),
    "ConfirmAgentReq": obj({"username": STR, "confirm": BOOL}, ["username", "confirm"]),
    "AgentUsersRes": obj({"agents": arr(obj({"username": STR, "perms": arr(STR), "isConfirmed": BOOL,
                                             "allowances": {"type": "object"}}))}),
    "WalletRes": obj({"address": ADDR}),
    "SetPrivateKeyReq": obj({"privateKey": STR}, ["privateKey"]),
    "SetMnemonicReq": obj({"mnemonic": STR, "derivationPath": {"type": "string", "example": "0"}}, ["mnemonic"]),
    "TokenBalanceRes": obj({"eth": WEI, "mor": WEI}),
    "AllowanceRes": obj({"allowance": WEI}),
    "BalanceRes": obj({"balance": WEI}),
    "BlockRes": obj({"block": INT}),
    "BudgetRes": obj({"budget": WEI}),
    "SupplyRes": obj({"supply": WEI}),
    "StakesOnHoldRes": obj({"available": WEI, "onHold": WEI}),
    "SendReq": obj({"to": ADDR, "amount": WEI}, ["to", "amount"]),
    "TransactionsRes": obj({"transactions": arr(obj({
        "hash": HEX32, "from": ADDR, "to": ADDR, "timestamp": STR,
        "contract": obj({"contractAddress": ADDR, "contractName": STR, "methodName": STR,
                         "decodedInput": arr(obj({"key": STR, "type": STR, "value": {}}))}),
        "transfers": arr(obj({"from": ADDR, "to": ADDR, "value": STR, "tokenAddress": ADDR, "tokenName": STR,
                              "tokenSymbol": STR, "tokenDecimals": INT, "tokenIcon": STR})),
    }))}),
    "Provider": obj({"Address": ADDR, "Endpoint": STR, "Stake": WEI, "CreatedAt": WEI, "IsDeleted": BOOL}),
    "Model": obj({"Id": HEX32, "IpfsCID": HEX32, "Fee": BIGNUM, "Stake": BIGNUM, "Owner": ADDR, "Name": STR,
                  "Tags": arr(STR), "CreatedAt": BIGNUM, "IsDeleted": BOOL,
                  "ModelType": {"type": "string", "enum": ["LLM", "STT", "TTS", "EMBEDDING", "UNKNOWN"]}}),
    "Bid": obj({"Id": HEX32, "Provider": ADDR, "ModelAgentId": HEX32, "PricePerSecond": WEI, "Nonce": WEI,
                "CreatedAt": WEI, "DeletedAt": WEI}),
    "ScoredBid": obj({"ID": HEX32, "Bid": ref("Bid"), "Score": NUM}),
    "Session": obj({"Id": HEX32, "User": ADDR, "Provider": ADDR, "ModelAgentId": HEX32, "BidID": HEX32,
                    "Stake": BIGNUM, "PricePerSecond": BIGNUM, "CloseoutReceipt": STR, "CloseoutType": INT,
                    "ProviderWithdrawnAmount": BIGNUM, "OpenedAt": BIGNUM, "EndsAt": BIGNUM, "ClosedAt": BIGNUM}),
    "ProviderRes": obj({"provider": ref("Provider")}),
    "ProvidersRes": obj({"providers": arr(ref("Provider"))}),
    "ModelRes": obj({"model": ref("Model")}),
    "ModelsRes": obj({"models": arr(ref("Model"))}),
    "BidRes": obj({"bid": ref("Bid")}),
    "BidsRes": obj({"bids": arr(ref("Bid"))}),
    "ScoredBidsRes": obj({"bids": arr(ref("ScoredBid"))}),
    "SessionRes": obj({"session": ref("Session")}),
    "SessionsRes": obj({"sessions": arr(ref("Session"))}),
    "SessionIdsRes": arr(HEX32),
    "CreateProviderReq": obj({"stake": WEI, "endpoint": {"type": "string", "example": "provider.example:3333"}},
                             ["stake", "endpoint"]),
    "CreateModelReq": obj({"id": HEX32, "ipfsID": HEX32, "fee": WEI, "stake": WEI, "name": STR,
                           "tags": arr(STR)}, ["ipfsID", "fee", "stake", "name", "tags"]),
    "CreateBidReq": obj({"modelID": HEX32, "pricePerSecond": WEI}, ["modelID", "pricePerSecond"]),
    "OpenSessionReq": obj({"approval": STR, "approvalSig": STR, "stake": WEI, "directPayment": BOOL},
                          ["approval", "approvalSig", "stake"]),
    "OpenSessionByBidReq": obj({"sessionDuration": INT, "directPayment": BOOL}, ["sessionDuration"]),
    "OpenSessionByModelReq": obj({"sessionDuration": INT, "directPayment": BOOL, "failover": BOOL,
                                  "omitProvider": arr(ADDR)}, ["sessionDuration"]),
    "OpenSessionRes": obj({"sessionID": HEX32}),
    "ChatCompletionReq": obj({"model": STR, "messages": arr(obj({"role": STR, "content": {}})), "stream": BOOL},
                             ["messages"]),
    "LocalModelsRes": arr(obj({"Id": HEX32, "Name": STR, "Model": STR, "ApiType": STR, "ApiUrl": STR,
                               "Slots": INT, "CapacityPolicy": STR})),
    "ChatsRes": arr(obj({"chatId": HEX32, "modelId": HEX32, "title": STR, "isLocal": BOOL, "createdAt": INT})),
    "ChatHistoryRes": obj({"title": STR, "modelId": HEX32, "isLocal": BOOL, "messages": arr(obj({
        "prompt": {"type": "object"}, "response": STR, "promptAt": INT, "responseAt": INT, "isImageContent": BOOL,
        "isVideoRawContent": BOOL, "isAudioContent": BOOL}))}),
    "UpdateChatTitleReq": obj({"title": STR}, ["title"]),
    "PingReq": obj({"providerAddr": ADDR, "providerUrl": STR}, ["providerAddr", "providerUrl"]),
    "PingRes": obj({"ping": INT, "version": STR}),
    "InitiateSessionReq": obj({"user": ADDR, "provider": ADDR, "spend": WEI, "providerUrl": STR, "bidId": HEX32},
                              ["user", "provider", "spend", "providerUrl", "bidId"]),
    "SessionApprovalRes": obj({"message": STR, "approval": STR, "approvalSig": STR, "user": ADDR,
                               "timestamp": INT, "signature": STR}),
}

_PATH_PARAM = re.compile(r"{(\w+)}")


def _operation(route: Route) -> S:
    op: S = {"tags": [route.tag], "summary": route.summary, "operationId": f"{route.method.lower()}"
             + re.sub(r"\W+", "_", route.path).rstrip("_")}
    params: list[S] = [{"name": n, "in": "path", "required": True, "schema": STR}
                       for n in _PATH_PARAM.findall(route.path)]
    params += [{"name": n, "in": "query", "required": req, "schema": {"type": t}} for n, t, req in route.query]
    params += [{"name": n, "in": "header", "required": False, "schema": HEX32} for n in route.headers]
    if params:
        op["parameters"] = params
    if route.body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(route.body)}}}
    ok: S = {"description": "OK"}
    if route.response:
        ok["content"] = {"application/json": {"schema": ref(route.response)}}
    else:
        ok["content"] = {route.response_type: {"schema": STR}, "application/json": {"schema": {"type": "object"}}}
    error = {"content": {"application/json": {"schema": ref("ErrorRes")}}}
    op["responses"] = {"200": ok, "400": {"description": "Bad input", **error}}
    if route.perm is not None:
        op["security"] = [{"basicAuth": []}]
        op["x-permission"] = route.perm
        op["responses"]["401"] = {"description": "Missing or wrong credentials", **error}
        op["responses"]["403"] = {"description": "method not allowed (outside the user's whitelist)", **error}
    else:
        op["security"] = []
    return op


def build_document(routes: Sequence[Route]) -> S:
    """The OpenAPI 3.0 document for ``routes``."""
    paths: dict[str, S] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Morpheus node HTTP API",
            "version": "1.0",
            "description": "Go proxy-router compatible REST API and OpenAI-compatible /v1. Every route except "
                           "the open ones needs HTTP Basic credentials from .cookie or proxy.conf; x-permission "
                           "is the whitelist name (rpcwhitelist=<user>:<perm>,...).",
        },
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}, "schemas": SCHEMAS},
        "paths": paths,
    }


def document_path() -> Path:
    """Where the committed document lives."""
    return resources_dir() / "openapi" / "openapi.json"


def render(routes: Sequence[Route]) -> str:
    """The document as committed (stable key order, trailing newline)."""
    return json.dumps(build_document(routes), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write resources/openapi/openapi.json from the route table."""
    from app.router.api.server import ROUTES

    document_path().write_text(render(ROUTES), encoding="utf-8")
    sys.stdout.write(f"wrote {document_path()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
