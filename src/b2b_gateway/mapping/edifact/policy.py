"""From a partner profile to what the EDIFACT formats layer needs: reader options and narrowing rules."""

from __future__ import annotations

from b2b_gateway.errors import (
    GatewayError,
    PartnerConfigError,
    TooManyRepeatsError,
    UnexpectedError,
    ValueTooLongError,
)
from b2b_gateway.formats.edifact.charsets import codec_exists
from b2b_gateway.formats.edifact.directory import SHIPPED, load_directory
from b2b_gateway.formats.edifact.narrowing import NarrowingRule, check_rules
from b2b_gateway.formats.edifact.reader import ReaderOptions
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.partners.profile import PartnerProfile

__all__ = ["narrowing_problems", "narrowing_rules", "reader_options", "relaxed"]


def reader_options(options: CodecOptions) -> ReaderOptions:
    """The reader's strictness for the partner in ``options`` (strict when the partner is unknown)."""
    limits = options.limits
    partner = options.partner
    if partner is None:
        return ReaderOptions(max_segments=limits.max_segments)
    p = partner.parsing
    return ReaderOptions(
        allow_banner=p.allow_banner,
        allow_wrapped_lines=p.allow_wrapped_lines,
        control_counts=p.control_counts,
        charset_fallback=p.charset_fallback,
        charset_violations=p.charset_violations,
        max_segments=limits.max_segments,
    )


def narrowing_rules(partner: PartnerProfile | None) -> list[NarrowingRule]:
    """The partner's narrowing as format-level rules."""
    if partner is None:
        return []
    return [
        NarrowingRule(
            message=n.message,
            path=n.path,
            require=n.require,
            forbid=n.forbid,
            codes=tuple(n.codes) if n.codes is not None else None,
            max_length=n.max_length,
            max_repeats=n.max_repeats,
        )
        for n in partner.narrowing
    ]


def _directories(partner: PartnerProfile, message: str) -> list[str]:
    versions = {
        (d.version or "").upper()
        for d in partner.documents
        if d.format == "edifact" and (d.message_type or "").upper() == message and d.version
    }
    chosen = [v for v in versions if v in SHIPPED]
    return chosen or list(SHIPPED)


def narrowing_problems(partner: PartnerProfile) -> list[PartnerConfigError]:
    """Everything wrong with the partner's EDIFACT settings: a narrowing that names what the directory does
    not define or widens it (checked against the directories the partner's exchanges name, else all
    shipped ones), an unknown ``charset_fallback``. Call it when profiles are loaded, to refuse them."""
    out: list[PartnerConfigError] = []
    if not codec_exists(partner.parsing.charset_fallback):
        out.append(
            PartnerConfigError(
                f"partner {partner.id}: parsing.charset_fallback "
                f"{partner.parsing.charset_fallback!r} is not an encoding"
            )
        )
    for rule in narrowing_rules(partner):
        for name in _directories(partner, rule.message):
            for problem in check_rules([rule], load_directory(name)):
                problem.message = f"partner {partner.id}: {problem.message} ({name})"
                problem.args = (problem.message,)
                out.append(problem)
    return out


def relaxed(errors: list[GatewayError], partner: PartnerProfile | None) -> list[GatewayError]:
    """``errors`` with structure findings turned into warnings when the partner's ``parsing.structure`` is ``warn``."""
    if partner is None or partner.parsing.structure != "warn":
        return errors
    for err in errors:
        if isinstance(err, UnexpectedError | TooManyRepeatsError | ValueTooLongError):
            err.severity = "warning"
    return errors
