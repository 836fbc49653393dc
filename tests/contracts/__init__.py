"""Contract conformance suite (spec §11) run on eth-tester against the compiled artifacts."""
