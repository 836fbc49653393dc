"""MOR-RPC wire protocol: Go-compatible JSON, signatures, ECIES and framing."""
