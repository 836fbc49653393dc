"""The only layer that talks to Ethereum: web3 client, contract wrappers, transactions."""
