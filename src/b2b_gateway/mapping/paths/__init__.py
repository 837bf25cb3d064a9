"""Addressing values in partner documents: EDIFACT paths, XPath for XML, JSON paths.

Each syntax implements :class:`~b2b_gateway.mapping.paths.base.Syntax`: compile a path once (at load
time, so a bad path is a configuration error with the mapping file's line), select what it designates
in a document (inbound), and create what it designates in a document being built (outbound).
"""

from b2b_gateway.mapping.paths.base import Hit, Syntax

__all__ = ["Hit", "Syntax"]
