"""Morpheus desktop node: wallet, marketplace, chat and an embedded Go-compatible proxy-router."""

__version__ = "0.1.0"
