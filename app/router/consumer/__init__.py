"""Consumer side of the router: rating, sessions, prompts, failover and expiry."""
