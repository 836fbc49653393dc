"""Fault-injection tests on the devnet: dead, silent and lying providers, chain outages, SIGKILL, broken disks."""
