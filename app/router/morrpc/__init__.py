"""MOR-RPC wire protocol: Go-compatible JSON, signatures, ECIES and framing.

Modules (import them directly; this package re-exports nothing):
  gojson      Go ``encoding/json``-identical encoding of strings and JSON values.
  structs     ``GoStruct`` base: field kinds, Go-order encoding, signing bytes, strict parsing.
  messages    the message catalogue (one dataclass per Go struct) and method → type maps.
  envelope    request/response envelopes and the error object.
  signing     sign via ``app.signer.Signer``; verify by public key or by address (ecrecover).
  ecies       go-ethereum ECIES (AES-128-CTR + HMAC-SHA256) encrypt/decrypt.
  prompt      seal/open one streamed prompt response (encrypt + sign / verify + decrypt).
  rpc_errors  plaintext infrastructure errors and encrypted, signed backend errors.
  receipts    on-chain approval and closeout receipt: ABI encoding and EIP-191 signatures.
  framing     incremental decoder for concatenated JSON objects; async read/write helpers.
  exceptions  MorRpcProtocolError (a PeerError) and its kin.
"""
