"""The proxy-router: MOR-RPC, provider and consumer sides, and the HTTP API (no Qt, no web3)."""
