"""Test helpers shared across the suite: real servers and fixtures, no mocks."""
