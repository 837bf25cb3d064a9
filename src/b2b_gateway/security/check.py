"""Health of the certificate store: expired, not-yet-valid, soon-to-expire and broken chains.

``b2b-gateway certs check`` prints these findings; the running gateway logs the warnings and exposes
:func:`expiry_timestamps` as a metric (the ops module builds the Prometheus gauge from it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from b2b_gateway.errors import CertificateExpiredError, CertificateNotYetValidError, CertificateUntrustedError
from b2b_gateway.security.chain import is_self_signed, validate_chain
from b2b_gateway.security.store import CertEntry, CertStore

__all__ = ["CertFinding", "Status", "check_store", "expiry_timestamps"]

Status = Literal["ok", "expiring", "expired", "not-yet-valid", "broken-chain", "unencrypted-key"]
_ERRORS = frozenset({"expired", "not-yet-valid", "broken-chain"})


@dataclass(frozen=True, slots=True)
class CertFinding:
    """One certificate entry's state."""

    name: str
    status: Status
    detail: str
    not_after: dt.datetime
    days_left: int

    @property
    def severity(self) -> Literal["ok", "warning", "error"]:
        if self.status == "ok":
            return "ok"
        return "error" if self.status in _ERRORS else "warning"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "severity": self.severity,
            "detail": self.detail,
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left,
        }


def _chain_problem(entry: CertEntry, store: CertStore, at: dt.datetime) -> str | None:
    cert = entry.certificate
    if is_self_signed(cert):
        return None
    roots = [c for c in store.all_certificates() if is_self_signed(c)]
    pool = [*entry.chain, *store.all_certificates()]
    try:
        validate_chain(cert, roots, pool, at=at)
    except CertificateUntrustedError:
        return f"no chain from {cert.issuer.rfc4514_string()} to a root in the store"
    except (CertificateExpiredError, CertificateNotYetValidError) as exc:
        return f"chain: {exc.message}"
    return None


def _finding(entry: CertEntry, store: CertStore, at: dt.datetime, window: dt.timedelta) -> CertFinding:
    left = entry.not_after - at
    days = int(left.total_seconds() // 86400)

    def found(status: Status, detail: str) -> CertFinding:
        return CertFinding(entry.name, status, detail, entry.not_after, days)

    if at > entry.not_after:
        return found("expired", f"expired {-days} day(s) ago, on {entry.not_after:%Y-%m-%d}")
    if at < entry.not_before:
        return found("not-yet-valid", f"valid from {entry.not_before:%Y-%m-%d %H:%M} UTC")
    problem = _chain_problem(entry, store, at)
    if problem:
        return found("broken-chain", problem)
    if left <= window:
        return found("expiring", f"expires in {days} day(s), on {entry.not_after:%Y-%m-%d}")
    if entry.key is not None and not entry.key_encrypted:
        return found("unencrypted-key", "the private key is stored unencrypted; re-import it with a passphrase set")
    return found("ok", f"valid until {entry.not_after:%Y-%m-%d}")


def check_store(store: CertStore, *, warning_days: int = 30, at: dt.datetime | None = None) -> list[CertFinding]:
    """One finding per entry, by name.

    Args:
        store: the certificates to check.
        warning_days: the window in which a certificate counts as soon to expire.
        at: the moment to check at (default now).
    """
    moment = at or dt.datetime.now(dt.UTC)
    window = dt.timedelta(days=warning_days)
    return [_finding(entry, store, moment, window) for entry in store]


def expiry_timestamps(store: CertStore) -> dict[str, float]:
    """Each entry's not-after moment as a Unix timestamp, by name (for an expiry gauge)."""
    return {entry.name: entry.not_after.timestamp() for entry in store}
