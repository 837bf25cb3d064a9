"""Bytes <-> native document trees (EDIFACT segments, XML elements, JSON values). Pure: no I/O, and no
knowledge of the canonical model."""
