"""UN/CEFACT Cross Industry Invoice (CII D16B, the EN 16931 CII syntax) -> canonical (read only)."""
