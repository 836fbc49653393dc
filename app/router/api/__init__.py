"""The Go-compatible HTTP API of the router (aiohttp)."""
