"""Composition root: builds the services from configuration and starts/stops them (GUI and headless alike)."""
