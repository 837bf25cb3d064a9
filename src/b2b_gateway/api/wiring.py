"""Building the operations surface from settings: what ``b2b-gateway run`` and ``status`` call.

``run`` (after building its pipeline and repository) does::

    ops = operations_for(settings, repo, partners=partners, pipelines=pipelines, metrics=metrics)
    ctx.observers.append(ops.metrics.observe)            # counters and stage histograms
    app = build_app(ops, authenticator_from(settings), extra=[inbound_router, as2_router])
    asyncio.create_task(ops.run_alerts(stop))            # alerts every alerts.interval_s
"""

from __future__ import annotations

from b2b_gateway._version import __version__
from b2b_gateway.api.certificates import PemDirectory
from b2b_gateway.api.ops import Operations
from b2b_gateway.api.ports import QueueMonitor
from b2b_gateway.api.queues import EmbeddedQueues, RabbitQueues
from b2b_gateway.api.store_ops import PipelineFactory, StoreOps
from b2b_gateway.observability.alerts import AlertNotifier
from b2b_gateway.observability.metrics import GatewayMetrics
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.settings import Settings, read_secret
from b2b_gateway.store.repository import MessageRepository
from b2b_gateway.transport.topology import Topology

__all__ = ["operations_for", "queue_monitor"]


def queue_monitor(settings: Settings, repo: MessageRepository) -> QueueMonitor:
    """RabbitMQ's queues when a broker is configured, else the embedded queue in the store."""
    if settings.amqp.url is None:
        return EmbeddedQueues(repo)
    topology = Topology.from_settings(settings.amqp)
    names = [q for q in topology.all_queues() if ".retry." not in q]
    return RabbitQueues(settings.amqp.url.get_secret_value(), names)


def operations_for(
    settings: Settings,
    repo: MessageRepository,
    *,
    partners: PartnerDirectory | None = None,
    pipelines: PipelineFactory | None = None,
    metrics: GatewayMetrics | None = None,
    queues: QueueMonitor | None = None,
) -> Operations:
    """The operations service over the open repository, with queues, certificates, keys and alerts wired."""
    directory = partners if partners is not None else PartnerDirectory()
    metrics = metrics or GatewayMetrics(__version__, partners=lambda: {p.id for p in directory})
    certs = PemDirectory(settings.paths.certs_dir, partners=directory, passphrase=settings.security.passphrase())

    async def keys() -> None:
        certs.check_keys()

    alerts = settings.alerts
    notifier = AlertNotifier(metrics, webhook_url=read_secret(alerts.webhook_url, alerts.webhook_url_file))
    return Operations(
        StoreOps(repo, partners=directory, pipelines=pipelines),
        settings,
        metrics=metrics,
        partners=directory,
        queues=queues or queue_monitor(settings, repo),
        certificates=certs,
        notifier=notifier,
        checks={"keys": keys},
    )
