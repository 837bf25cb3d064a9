"""The deployment files, checked without a Docker engine: parsed, probes on real endpoints, names that exist."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from b2b_gateway.api.app import create_app
from b2b_gateway.cli.app import app as cli_app
from b2b_gateway.settings import AmqpSettings, HttpSettings, Settings
from b2b_gateway.transport.topology import Topology
from tests.conftest import ROOT
from tests.ops.conftest import Rig

DEPLOY = ROOT / "deploy"
SCRIPT = next(iter(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]))


def docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def k8s(kind: str) -> dict[str, Any]:
    found = [d for f in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in docs(f"k8s/{f.name}") if d["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


def setting_exists(env_name: str) -> bool:
    """Whether ``B2B_A__B`` names a field ``a.b`` of :class:`Settings` (the env prefix and nesting rules)."""
    model: type[BaseModel] = Settings
    parts = env_name.removeprefix("B2B_").lower().split("__")
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if i < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def env_names_everywhere() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    compose = docs("docker-compose.yml")[0]
    out["compose"] = set(compose["services"]["gateway"]["environment"])
    out["configmap"] = set(k8s("ConfigMap")["data"])
    out["secret"] = {k for d in docs("k8s/secret.yaml") for k in d["stringData"] if k.startswith("B2B_")}
    out["dockerfile"] = set(re.findall(r"\b(B2B_[A-Z0-9_]+)=", (DEPLOY / "Dockerfile").read_text()))
    out["systemd"] = set(
        re.findall(r"^Environment=(B2B_[A-Z0-9_]+)=", (DEPLOY / "systemd/b2b-gateway.service").read_text(), re.M)
    )
    return out


def test_every_file_parses() -> None:
    for path in [*DEPLOY.glob("*.yml"), *(DEPLOY / "k8s").glob("*.yaml")]:
        assert docs(str(path.relative_to(DEPLOY))), path
    json.loads((DEPLOY / "rabbitmq/definitions.json").read_text())


def test_every_environment_variable_is_a_setting() -> None:
    for where, names in env_names_everywhere().items():
        assert names, where
        unknown = sorted(n for n in names if n != "B2B_CONFIG" and not setting_exists(n))
        assert not unknown, f"{where}: not settings: {unknown}"


def test_the_kubernetes_configuration_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**k8s("ConfigMap")["data"], **docs("k8s/secret.yaml")[0]["stringData"]}.items():
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.environment == "production" and settings.http.host == "0.0.0.0"
    assert settings.store.url is not None and settings.store.url.get_secret_value().startswith("postgresql+asyncpg://")


async def test_probes_point_at_real_endpoints(rig: Rig) -> None:
    deployment = k8s("Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    port = next(p for p in container["ports"] if p["name"] == "http")["containerPort"]
    assert port == int(k8s("ConfigMap")["data"]["B2B_HTTP__PORT"]) == HttpSettings().port
    for probe, path in [("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]:
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}
        r = await rig.client.get(path)
        assert r.status_code == 200, (probe, r.text)
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert (await rig.client.get(annotations["prometheus.io/path"])).status_code == 200
    assert k8s("Service")["spec"]["ports"][0]["targetPort"] == "http"
    assert {"/healthz"} <= {getattr(r, "path", "") for r in create_app().routes}


def test_images_and_commands_match_the_package() -> None:
    commands = {c.name for c in cli_app.registered_commands}
    container = k8s("Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == [SCRIPT] and container["args"][0] in commands
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f'ENTRYPOINT ["{SCRIPT}"]' in dockerfile and 'CMD ["run"]' in dockerfile and "EXPOSE 8080" in dockerfile
    compose = docs("docker-compose.yml")[0]["services"]
    assert compose["gateway"]["command"] == ["run"] and compose["gateway"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert "management" in compose["rabbitmq"]["image"] and compose["postgres"]["image"].startswith("postgres:")
    assert compose["gateway"]["environment"]["B2B_STORE__URL"].startswith("postgresql+asyncpg://")
    environment = compose["gateway"]["environment"]  # one process per core needs the broker it names
    assert environment["B2B_PROCESS__WORKERS"] == "0" and environment["B2B_AMQP__URL"].startswith("amqp://")
    unit = (DEPLOY / "systemd/b2b-gateway.service").read_text()
    exec_start = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M).group(1))  # type: ignore[union-attr]
    assert Path(exec_start[0]).name == SCRIPT and exec_start[1] in commands


def test_rabbitmq_definitions_and_scaling_match_the_settings() -> None:
    definitions = json.loads((DEPLOY / "rabbitmq/definitions.json").read_text())
    exchanges = {e["name"]: e["type"] for e in definitions["exchanges"]}
    amqp = AmqpSettings()
    topology = Topology.from_settings(amqp)
    assert exchanges == {**dict.fromkeys(topology.exchanges, "topic"), topology.exchange_dead: "fanout"}
    assert all(e["durable"] and e["vhost"] == "b2b" for e in definitions["exchanges"])
    assert "load_definitions = /etc/rabbitmq/definitions.json" in (DEPLOY / "rabbitmq/rabbitmq.conf").read_text()
    scaled = next(d for d in docs("k8s/scaledobject.yaml") if d["kind"] == "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == k8s("Deployment")["metadata"]["name"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq" and trigger["metadata"]["mode"] == "QueueLength"
    assert trigger["metadata"]["queueName"] == amqp.queue_in == topology.queue_in
    kustomization = docs("k8s/kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml"
    )
