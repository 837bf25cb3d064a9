"""Typed settings: ``B2B_`` environment variables (``__`` nests) over an optional TOML file over defaults.

Nothing here is read at import time. :func:`load_settings` builds one immutable :class:`Settings`
value, which the CLI passes down; no module keeps it.

Example: ``B2B_AMQP__URL=amqp://guest:guest@127.0.0.1/`` or, in ``gateway.toml``::

    [amqp]
    url = "amqp://guest:guest@127.0.0.1/"

Secrets (passwords, passphrases, tokens) are :class:`pydantic.SecretStr` and come from the
environment or from files (``*_file`` settings); they never appear in ``repr`` or logs.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from b2b_gateway.errors import Location, SettingsError

__all__ = [
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "AlertSettings",
    "AmqpSettings",
    "DeliverySettings",
    "DirectorySettings",
    "HttpSettings",
    "LimitSettings",
    "LoggingSettings",
    "PathSettings",
    "SecuritySettings",
    "Settings",
    "StoreSettings",
    "TracingSettings",
    "load_settings",
    "read_secret",
]

DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathSettings(_Section):
    """Where the gateway keeps its files. Relative paths are relative to the working directory."""

    data_dir: Path = Path("var")
    mappings_dir: Path = Path("mappings")
    certs_dir: Path = Path("certs")
    schemas_dir: Path | None = Field(
        default=None,
        description="Installed official schemas (UBL XSD, EN 16931 XSLT); default data_dir/schemas",
    )

    routes_file: Path | None = Field(default=None, description="Routing rules (default mappings_dir/routes.yaml)")

    @property
    def installed_schemas(self) -> Path:
        return self.schemas_dir or self.data_dir / "schemas"

    @property
    def routes(self) -> Path:
        return self.routes_file or self.mappings_dir / "routes.yaml"


class StoreSettings(_Section):
    """The message store. SQLite (WAL) under the data directory unless a URL is given."""

    url: SecretStr | None = Field(default=None, description="SQLAlchemy async URL, e.g. postgresql+asyncpg://…")
    pool_size: int = 5
    retention_days: int | None = Field(default=None, description="Default retention; a partner's profile overrides")
    migrate_on_start: bool = True
    busy_timeout_ms: int = Field(default=5_000, description="SQLite: how long a write waits for a lock")
    lock_timeout_ms: int = Field(default=5_000, description="PostgreSQL: lock_timeout of the gateway's sessions")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    group_commit_max: int = Field(default=500, description="Most saves committed in one transaction")
    writers: int = Field(
        default=1,
        ge=1,
        le=16,
        description=(
            "PostgreSQL: group-commit transactions in flight at once (SQLite: always 1). One gathers the most saves "
            "into each commit: the least CPU per document"
        ),
    )
    outcome_linger_ms: float = Field(
        default=50.0,
        ge=0,
        description=(
            "Delivery outcomes recorded within this long of each other share one transaction (off the documents' "
            "path: fewer transactions competing with the saves); 0: each its own"
        ),
    )
    counter_block: int = Field(
        default=20,
        ge=1,
        description=(
            "Control numbers reserved at a time per counter, at first (fewer commits; a restart skips a block's "
            "rest); a counter whose demand outruns its blocks gets larger ones, up to 1024"
        ),
    )
    queue_poll_s: float = Field(default=0.5, description="Embedded queue: poll interval for other processes' work")
    purge_interval_s: float = Field(default=3600.0, description="How often the running gateway applies retention")

    def resolved_url(self, paths: PathSettings) -> str:
        if self.url is not None:
            return self.url.get_secret_value()
        return f"sqlite+aiosqlite:///{(paths.data_dir / 'gateway.db').as_posix()}"


class AmqpSettings(_Section):
    """RabbitMQ. With no URL the gateway uses its embedded durable queue."""

    url: SecretStr | None = None
    exchange_in: str = "b2b.in"
    exchange_out: str = "b2b.out"
    exchange_erp: str = "b2b.erp"
    exchange_dead: str = Field(default="b2b.dead", description="Documents the outbox relay gave up on")
    queue_in: str = "b2b.in.gateway"
    queue_out: str = "b2b.out.gateway"
    queue_erp: str | None = Field(default="b2b.erp", description='Declared so nothing published is lost; "": none')
    delivery_limit: int = Field(default=20, description="Redeliveries before a quorum queue dead-letters")
    prefetch: int = 100
    retry_delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000, 600_000)
    max_attempts: int = 5
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None


class DeliverySettings(_Section):
    """The outbox relay: retries with backoff, circuit breakers, leases shared between gateway processes."""

    poll_interval_s: float = 1.0
    lease_s: float = Field(default=30.0, description="A claimed entry is retaken by another process after this")
    batch_size: int = 200
    concurrency: int = 64
    max_pending: int = Field(
        default=512,
        ge=1,
        description="Outputs handed to the relay and waiting for a delivery slot; beyond this the pipeline waits",
    )
    max_attempts: int = Field(default=25, description="For destinations without a partner retry policy (the ERP)")
    initial_delay_s: float = 1.0
    max_delay_s: float = 300.0
    breaker_threshold: int = Field(default=5, description="Consecutive failures that open an endpoint's circuit")
    breaker_cooldown_s: float = 30.0
    ack_check_interval_s: float = Field(
        default=60.0, description="How often sent documents are checked for acknowledgments past their deadline"
    )


class DirectorySettings(_Section):
    """The embedded default channels: a pickup directory and the ERP drop directory."""

    inbox: Path | None = Field(default=None, description="Pickup directory (default data_dir/in)")
    erp_outbox: Path | None = Field(default=None, description="Canonical JSON for the ERP (default data_dir/erp)")
    poll_interval_s: float = 0.5
    settle_s: float = Field(default=0.2, description="A file is complete when its size has not changed this long")


class HttpSettings(_Section):
    """The gateway's HTTP server (API, dashboard, AS2, inbound HTTP)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = Field(default=None, description="Require client certificates signed by this CA")
    public_url: str | None = None
    inbound_token: SecretStr | None = Field(default=None, description="Bearer token for POST /api/v1/documents")
    inbound_tokens_file: Path | None = Field(
        default=None, description="Bearer tokens, one a line, optionally followed by the partner id they speak for"
    )


class LoggingSettings(_Section):
    """structlog output: JSON lines in production, readable console in a terminal."""

    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class LimitSettings(_Section):
    """Size limits on every input."""

    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    max_xml_depth: int = 256
    max_xml_elements: int = 2_000_000
    max_json_depth: int = 128
    max_segments: int = 5_000_000
    max_import_bytes: int = 8 * 1024**3
    """``messages import``: at most this many uncompressed bytes from one archive or directory."""
    max_import_members: int = 1_000_000
    """``messages import``: at most this many members (files) in one archive or directory."""
    stream_threshold_bytes: int = Field(
        default=1024 * 1024,
        description="EDIFACT files (pickup, CLI) over this are read as a stream: one message at a time, from the file",
    )
    max_stream_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024, description="The largest file read as a stream (an interchange of messages)"
    )
    stream_batch: int = Field(
        default=128, description="Messages of a streamed interchange processed (and committed) together"
    )


class SecuritySettings(_Section):
    """Key passphrase, API users and tokens: from the environment or from files only."""

    key_passphrase: SecretStr | None = None
    key_passphrase_file: Path | None = None
    admin_password: SecretStr | None = None
    admin_password_file: Path | None = None
    api_token: SecretStr | None = None
    api_token_file: Path | None = None
    session_secret: SecretStr | None = None
    session_secret_file: Path | None = None
    session_max_age_s: int = Field(default=8 * 3600, description="Dashboard sessions expire after this long")
    users_file: Path | None = Field(default=None, description="Dashboard users (default data_dir/users.json)")
    cert_warning_days: int = 30
    signing_key: str | None = Field(
        default=None, description="Which of our keys (a name in certs/) signs when the partner profile does not say"
    )

    def passphrase(self) -> bytes | None:
        value = read_secret(self.key_passphrase, self.key_passphrase_file)
        return value.encode() if value is not None else None


class AlertSettings(_Section):
    """Operational alerts: a log event and a metric always, a webhook POST when a URL is set."""

    webhook_url: SecretStr | None = Field(default=None, description="POST each alert as JSON here (may hold a token)")
    webhook_url_file: Path | None = None
    interval_s: float = Field(default=60.0, description="How often the alert checks run")
    dead_letter_growth: int = Field(default=1, description="Alert when dead letters grew by this many since last check")
    ack_deadline_minutes: int = Field(
        default=240, description="Default acknowledgment deadline for partners whose profile sets none"
    )


class TracingSettings(_Section):
    """OpenTelemetry tracing (needs the ``tracing`` extra): one trace per document across stages and queues."""

    enabled: bool = False
    service_name: str = "b2b-gateway"
    exporter: Literal["console", "memory", "none"] = "console"


class ProcessSettings(_Section):
    """The gateway process itself."""

    workers: int = Field(
        default=1,
        ge=0,
        description=(
            "Gateway processes `run` starts (0: one per CPU core). Above 1 (RabbitMQ only), a supervisor starts a "
            "primary (HTTP, pickup, housekeeping, consumers) and consumer-only workers, and restarts any that exits"
        ),
    )
    stop_timeout_s: float = Field(
        default=30.0, gt=0, description="With workers: how long a stopping process may finish its work before SIGKILL"
    )
    restart_max_s: float = Field(
        default=30.0, gt=0, description="With workers: the longest wait before restarting a process that exited"
    )
    gc_freeze: bool = Field(
        default=True,
        description="Once started, keep what start-up loaded out of the garbage collector's passes (shorter pauses)",
    )
    gc_thresholds: tuple[int, int, int] = Field(
        default=(200_000, 10, 100),
        description=(
            "gc.set_threshold while serving; CPython's default is (700, 10, 10). Almost everything a document "
            "allocates is freed by reference counting, so the collector's passes find next to nothing, yet a young "
            "pass walks every document in flight: with the first value 200,000 they run only when the process "
            "grows by that many objects (gateway CPU per document -12% against 20,000 measured); the third value "
            "100 makes full collections (a walk of every live object) ten times rarer"
        ),
    )

    gc_log_ms: float = Field(
        default=40.0, ge=0, description="Log a garbage-collector pause this long or longer as gc.pause (while serving)"
    )
    loop_stall_ms: float = Field(
        default=40.0,
        ge=0,
        description=(
            "Log a stall of the event loop this long or longer as loop.stall (while serving; a timer waking this late: "
            "every document in flight waited); 0 turns the watch off"
        ),
    )

    @field_validator("gc_thresholds")
    @classmethod
    def _thresholds(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if min(value) < 1:
            raise ValueError("every threshold is at least 1 (0 would turn the collector off)")
        return value


class Settings(BaseSettings):
    """The whole configuration of one gateway process."""

    model_config = SettingsConfigDict(
        env_prefix="B2B_", env_nested_delimiter="__", extra="forbid", frozen=True, case_sensitive=False
    )

    environment: Literal["development", "test", "production"] = "development"
    company_id: str = Field(default="GATEWAY", description="The partner id of this gateway's own company")
    paths: PathSettings = PathSettings()
    store: StoreSettings = StoreSettings()
    amqp: AmqpSettings = AmqpSettings()
    delivery: DeliverySettings = DeliverySettings()
    directories: DirectorySettings = DirectorySettings()
    http: HttpSettings = HttpSettings()
    logging: LoggingSettings = LoggingSettings()
    limits: LimitSettings = LimitSettings()
    security: SecuritySettings = SecuritySettings()
    alerts: AlertSettings = AlertSettings()
    tracing: TracingSettings = TracingSettings()
    process: ProcessSettings = ProcessSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the TOML file, which reaches us as init arguments.
        return env_settings, init_settings, file_secret_settings

    @property
    def inbox(self) -> Path:
        return self.directories.inbox or self.paths.data_dir / "in"

    @property
    def erp_outbox(self) -> Path:
        return self.directories.erp_outbox or self.paths.data_dir / "erp"

    @property
    def users_file(self) -> Path:
        return self.security.users_file or self.paths.data_dir / "users.json"

    def without_http(self) -> Settings:
        """These settings with the HTTP server off (a process that serves no requests)."""
        return self.model_copy(update={"http": self.http.model_copy(update={"enabled": False})})


def read_secret(value: SecretStr | None, path: Path | None) -> str | None:
    """A secret given directly (environment) or in a file (first line, stripped)."""
    if value is not None:
        return value.get_secret_value()
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            raise SettingsError(f"cannot read secret file: {exc}", location=Location(file=str(path))) from None
    return None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from defaults, the TOML file (``config_file`` or ``$B2B_CONFIG``) and the environment.

    Raises:
        SettingsError: the file cannot be read or a value is invalid; the message names the setting.
    """
    data: dict[str, Any] = {}
    path = config_file or (Path(os.environ["B2B_CONFIG"]) if os.environ.get("B2B_CONFIG") else None)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(
                f"cannot read settings file: {exc.strerror}", location=Location(file=str(path))
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"invalid TOML: {exc}", location=Location(file=str(path))) from None
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        env = "B2B_" + "__".join(str(p) for p in first["loc"]).upper()
        raise SettingsError(
            f"invalid setting {name!r}: {first['msg']}",
            location=Location(file=str(path) if path else None, field=name),
            hint=f"set it in the TOML file as {name} or in the environment as {env}",
        ) from None
