"""Attack-surface tests: fuzzed MOR-RPC and HTTP input, forged messages, exposure and secrets at rest."""
