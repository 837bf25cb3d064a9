"""Character sets of UN/EDIFACT syntax identifiers (UNB S001 0001), and their repertoire checks.

==========  ==========================  =========================================================
identifier  repertoire                  decoded with
==========  ==========================  =========================================================
UNOA        ISO 646 level A (upper)     ASCII; lower-case and other ASCII graphics are *warnings*
UNOB        ISO 646 level B             ASCII; ASCII graphics outside level B are *warnings*
UNOC        ISO 8859-1                  latin-1
UNOD        ISO 8859-2                  iso8859-2
UNOE        ISO 8859-5                  iso8859-5
UNOF        ISO 8859-7                  iso8859-7
UNOG        ISO 8859-3                  iso8859-3
UNOH        ISO 8859-4                  iso8859-4
UNOI        ISO 8859-6                  iso8859-6
UNOJ        ISO 8859-8                  iso8859-8
UNOK        ISO 8859-9                  iso8859-9
UNOL        ISO 8859-15                 iso8859-15
UNOW        ISO 10646 UTF-8             utf-8
UNOX        ISO 2022 code extension     iso2022_jp_2 (escape sequences inside values)
UNOY        ISO 10646-1                 utf-8 (what partners send in practice)
IATA        IATA level A                ASCII, checked like UNOA
IATB        IATA level B                ASCII, checked like UNOB
==========  ==========================  =========================================================

Bytes that do not decode as declared (a byte above 0x7F under UNOA, invalid UTF-8 under UNOY, a C1
control under UNOC …) are decoded with the partner's fallback (``ParsingPolicy.charset_fallback``,
latin-1 by default) and reported as a :class:`~b2b_gateway.errors.CharacterSetError`, an error or a
warning per ``ParsingPolicy.charset_violations``; never silently mangled. Control characters inside
data (a line break within a segment, when the partner does not hard-wrap) are reported the same way.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CHARSETS", "Charset", "charset_for", "codec_exists"]

_LEVEL_A = "A-Z0-9 .,\\-()/='+:?!\"%&*;<>"
_LEVEL_B = _LEVEL_A + "a-z"


@dataclass(frozen=True, slots=True)
class Charset:
    """How one syntax identifier's bytes are decoded and checked.

    ``invalid`` matches what is never allowed (bytes that do not decode as declared, control
    characters other than tab, CR and LF, which the tokenizer checks itself since they may separate
    segments); ``level`` is the 7-bit repertoire (a regex class body) whose other ASCII graphics are
    only warned about.
    """

    identifier: str
    codec: str
    invalid: re.Pattern[str]
    level: str | None = None

    def outside(self, delimiters: str) -> re.Pattern[str] | None:
        """ASCII graphics outside the 7-bit level (``delimiters`` excepted); ``None`` for 8-bit sets."""
        return None if self.level is None else _outside(self.level, delimiters)

    def any_invalid(self, region: bytes) -> bool:
        """Whether ``region`` holds a byte ``invalid`` matches (a fast C-level pre-check)."""
        return bool(region.translate(None, _keep(self.invalid)))

    def any_outside(self, region: bytes, delimiters: str) -> bool:
        """Whether ``region`` holds an ASCII graphic outside the level (fast pre-check of :meth:`outside`)."""
        pattern = self.outside(delimiters)
        return pattern is not None and bool(region.translate(None, _keep(pattern)))

    @property
    def latin1_identical(self) -> bool:
        """Whether latin-1 text (how the tokenizer reads bytes) already is the decoded text."""
        return self.codec in ("latin-1", "ascii")

    def decode(self, value: str) -> str:
        """Re-decode a latin-1 read ``value`` with this codec. Raises UnicodeDecodeError."""
        return value.encode("latin-1").decode(self.codec)


# What is invalid inside data, read as latin-1: C0 controls (line breaks inside segments included),
# DEL, and per repertoire the bytes above 0x7F (7-bit sets) or the C1 controls (ISO 8859 sets).
_CTRL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
_SEVEN_BIT = re.compile(f"[{_CTRL}\\x80-\\xff]+")
_EIGHT_BIT = re.compile(f"[{_CTRL}\\x80-\\x9f]+")
_UTF8 = re.compile(f"[{_CTRL}]+")
_ISO2022 = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1a\\x1c-\\x1f\\x7f\\x80-\\xff]+")


@lru_cache(maxsize=64)
def _keep(pattern: re.Pattern[str]) -> bytes:
    """The bytes ``pattern`` does not match (deleted by ``bytes.translate`` to see whether any others remain)."""
    return bytes(b for b in range(256) if not pattern.match(chr(b)))


@lru_cache(maxsize=64)
def _outside(level: str, delimiters: str) -> re.Pattern[str]:
    return re.compile(f"[^{level}{re.escape(delimiters)}\\x00-\\x20\\x7f-\\xff]")


def _seven_bit(identifier: str, level: str) -> Charset:
    return Charset(identifier, "ascii", _SEVEN_BIT, level)


CHARSETS: dict[str, Charset] = {
    "UNOA": _seven_bit("UNOA", _LEVEL_A),
    "UNOB": _seven_bit("UNOB", _LEVEL_B),
    "IATA": _seven_bit("IATA", _LEVEL_A),
    "IATB": _seven_bit("IATB", _LEVEL_B),
    "UNOC": Charset("UNOC", "latin-1", _EIGHT_BIT),
    "UNOD": Charset("UNOD", "iso8859-2", _EIGHT_BIT),
    "UNOE": Charset("UNOE", "iso8859-5", _EIGHT_BIT),
    "UNOF": Charset("UNOF", "iso8859-7", _EIGHT_BIT),
    "UNOG": Charset("UNOG", "iso8859-3", _EIGHT_BIT),
    "UNOH": Charset("UNOH", "iso8859-4", _EIGHT_BIT),
    "UNOI": Charset("UNOI", "iso8859-6", _EIGHT_BIT),
    "UNOJ": Charset("UNOJ", "iso8859-8", _EIGHT_BIT),
    "UNOK": Charset("UNOK", "iso8859-9", _EIGHT_BIT),
    "UNOL": Charset("UNOL", "iso8859-15", _EIGHT_BIT),
    "UNOW": Charset("UNOW", "utf-8", _UTF8),
    "UNOX": Charset("UNOX", "iso2022_jp_2", _ISO2022),
    "UNOY": Charset("UNOY", "utf-8", _UTF8),
}


def charset_for(identifier: str) -> Charset | None:
    """The character set of syntax identifier ``identifier`` (``UNOC``), ``None`` when unsupported."""
    return CHARSETS.get(identifier.upper())


def codec_exists(name: str) -> bool:
    """Whether ``name`` is a Python codec (a partner's ``charset_fallback`` is checked with it)."""
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True
