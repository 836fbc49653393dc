"""Provider side of the router: MOR-RPC server, approvals, capacity, backends and reports."""
