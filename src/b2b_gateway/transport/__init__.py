"""Transports: the only code that touches sockets and channel directories. One module per transport,
each with the same shape, and an in-memory twin for tests."""
