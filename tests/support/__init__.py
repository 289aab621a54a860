"""Test support: real processes and the servers tests run against."""
