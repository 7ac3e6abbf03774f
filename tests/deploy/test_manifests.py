"""The deployment as files (deploy/), linted offline: no Docker daemon, no cluster, no image build.

- deploy/compose.yaml passes ``docker-compose config`` with its secrets set, and stops, naming the
  variable, when one is missing (Debian's docker-compose: scripts/setup_deploy_lint.sh);
- every Kubernetes manifest validates against the Kubernetes schema (kubernetes-validate, strict);
- the policies an operator relies on: probes, requests and limits, pinned images, non-root and
  read-only containers, no secret written in a file, only real settings (.env.example), every
  variable Rasa's endpoints and credentials need, and compose and Kubernetes running the same
  components with the same commands, images, health URLs and limits;
- deploy/nginx/nginx.conf parses with nginx (scripts/setup_nginx.sh), never sends a POST that reached
  a replica to another one, and points at compose's services.

Each checker returns the problems it finds, in words, so a failure says what to fix; the tests at the
end give broken copies to the same checkers and expect them to be refused.
"""

from __future__ import annotations

import ast
import copy
import importlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
K8S_DIR = DEPLOY / "k8s"
KUSTOMIZATION = K8S_DIR / "kustomization.yaml"
# Not applied with the rest (kustomization.yaml): the operator fills a copy.
SECRET_TEMPLATE = K8S_DIR / "secret.template.yaml"
NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"
DOCKERFILES = {
    "tanyavaksin-rasa": (DEPLOY / "images" / "rasa.Dockerfile", "rasa.lock"),
    "tanyavaksin-actions": (DEPLOY / "images" / "actions.Dockerfile", "actions.lock"),
}
ENV_EXAMPLE = ROOT / ".env.example"
RASA_FILES = (ROOT / "rasa_project" / "endpoints.yml", ROOT / "rasa_project" / "credentials.yml")

KUBERNETES_VERSION = "1.30"
RASA = "rasa"
# No HTTP server and no heartbeat to ask: a failure ends the process and it is restarted; a worker
# that hangs is not detected (a heartbeat file would allow an exec probe).
WITHOUT_PROBES = frozenset({"outreach-worker"})
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job"})
LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
# A variable holding a secret: by its name, or one of the URLs that carry a password.
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "_KEY")
SECRET_URLS = frozenset({
    "REGISTRY_DATABASE_URL", "REVIEW_DATABASE_URL", "REVIEW_TRACKER_STORE_URL", "WHATSAPP_SEEN_STORE_URL",
    "REGISTRY_OUTREACH_REDIS_URL", "REGISTRY_OUTREACH_RABBITMQ_URL",
})  # fmt: skip
REQUIRED_VARIABLE = re.compile(r"\$\{(\w+):\?[^}]*\}")
ANY_VARIABLE = re.compile(r"\$\{(\w+)")
PASSWORD_IN_URL = re.compile(r"://[^/\s:@]+:([^@\s]*)@")
HEALTH_URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):(\d+)(/[^'\"\s)]*)")
# nginx may retry a request on another replica only when it could not be sent there.
RETRY_CONDITIONS = frozenset({"error", "timeout"})
MAX_PROXY_BODY = 2 * 1024 * 1024
# The channels' own body limit (imported by name: mypy in the actions env does not follow the Rasa side).
CHANNEL_LIMITS_MODULE = "rasa_project.channels.inbound"


# --- reading the files -------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def load_manifests(directory: Path = K8S_DIR) -> list[tuple[str, dict[str, Any]]]:
    """(file name, document) of every manifest; the kustomization is kustomize's, not Kubernetes'."""
    return [
        (path.name, document)
        for path in sorted(directory.glob("*.yaml"))
        if path.name != KUSTOMIZATION.name
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document
    ]


def setting_names(path: Path = ENV_EXAMPLE) -> set[str]:
    """Every setting of every deployable: the ``NAME=`` lines of .env.example."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0].strip() for line in lines if "=" in line and not line.startswith("#")}


def rasa_variables() -> set[str]:
    """The ``${VAR}``s of endpoints.yml and credentials.yml: Rasa refuses to start while one is unset."""
    return {name for path in RASA_FILES for name in ANY_VARIABLE.findall(path.read_text(encoding="utf-8"))}


def is_secret(name: str) -> bool:
    return name in SECRET_URLS or any(word in name for word in SECRET_WORDS)


def image_name(image: str) -> str:
    """The image without its tag or digest."""
    without_digest = image.split("@", 1)[0]
    head, _, last = without_digest.rpartition("/")
    name = last.split(":", 1)[0]
    return f"{head}/{name}" if head else name


def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (that means :latest)"
    if last.endswith(":latest"):
        return f"image {image!r} is :latest"
    return None


def ours(image: str) -> bool:
    return image_name(image) in DOCKERFILES


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A compose service's environment as a mapping (compose also allows a list of NAME=value)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) for item in raw)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    return {name: "" if value is None else str(value) for name, value in raw.items()}


def our_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items() if ours(service.get("image", ""))}


def pod_spec(document: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = document["spec"]["template"]["spec"]
    return spec


def workloads(documents: list[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, name, pod spec) of every Deployment, StatefulSet, DaemonSet and Job."""
    for _file, document in documents:
        if document.get("kind") in WORKLOAD_KINDS:
            yield document["kind"], document["metadata"]["name"], pod_spec(document)


def main_container(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The container named like its workload (its only one, here)."""
    containers: list[dict[str, Any]] = spec["containers"]
    return next((container for container in containers if container["name"] == name), containers[0])


def configmap_keys(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, set[str]]:
    return {
        document["metadata"]["name"]: set(document.get("data") or {})
        for _file, document in documents
        if document.get("kind") == "ConfigMap"
    }


def container_variables(container: Mapping[str, Any], configmaps: Mapping[str, set[str]]) -> set[str]:
    """Every variable a container gets: its own env and the ConfigMaps it reads whole."""
    names = {entry["name"] for entry in container.get("env") or []}
    for source in container.get("envFrom") or []:
        reference = source.get("configMapRef")
        if reference:
            names |= configmaps.get(reference["name"], set())
    return names


# --- units -------------------------------------------------------------------------------------


def cpu_millis(value: object) -> int:
    text = str(value).strip()
    return int(text[:-1]) if text.endswith("m") else round(float(text) * 1000)


def kubernetes_bytes(value: object) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(value).strip())
    if match is None:
        raise ValueError(f"not a Kubernetes quantity of memory: {value!r}")
    factors = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
               "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}  # fmt: skip
    return round(float(match.group(1)) * factors[match.group(2)])


def compose_bytes(value: object) -> int:
    """Docker's sizes are binary: 1G is 1024 MiB."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([bkmg])?b?", str(value).strip().lower())
    if match is None:
        raise ValueError(f"not a compose size: {value!r}")
    factors = {None: 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}
    return round(float(match.group(1)) * factors[match.group(2)])


def nginx_bytes(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG])?", value.strip())
    if match is None:
        raise ValueError(f"not an nginx size: {value!r}")
    factors = {None: 1, "k": 2**10, "m": 2**20, "g": 2**30}
    return int(match.group(1)) * factors[match.group(2).lower() if match.group(2) else None]


# --- checkers: each returns the problems it finds --------------------------------------------


def schema_problems(
    documents: list[tuple[str, dict[str, Any]]], version: str = KUBERNETES_VERSION
) -> list[str]:
    try:
        import kubernetes_validate
    except ImportError:
        pytest.fail("kubernetes-validate is missing from .venvs/actions (requirements/actions.lock pins it)")
    problems = []
    for file, document in documents:
        where = f"{file}: {document.get('kind')} {document.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except Exception as error:  # the library's errors share no base class but Exception
            problems.append(f"{where}: {str(error).splitlines()[0]}")
    return problems


def container_problems(documents: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Requests and limits, a pinned image and no privileges for every container; probes for servers."""
    problems = []
    for kind, name, spec in workloads(documents):
        if (spec.get("securityContext") or {}).get("runAsNonRoot") is not True:
            problems.append(f"{kind} {name}: the pod does not require runAsNonRoot")
        for container in [*(spec.get("initContainers") or []), *spec["containers"]]:
            where = f"{kind} {name}, container {container['name']}"
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in (resources.get(part) or {}):
                        problems.append(f"{where}: no {resource} in {part}")
            image = image_problem(container.get("image", ""))
            if image:
                problems.append(f"{where}: {image}")
            security = container.get("securityContext") or {}
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: the root filesystem is not read-only")
            if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{where}: capabilities are not all dropped")
        if kind in LONG_RUNNING and name not in WITHOUT_PROBES:
            for container in spec["containers"]:
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in container:
                        problems.append(f"{kind} {name}, container {container['name']}: no {probe}")
    return problems


def _literal_secret(value: str) -> bool:
    """Whether a value writes a secret down: anything but required ``${VAR:?...}``s, or a URL whose
    password is one (or that has none)."""
    literal = REQUIRED_VARIABLE.sub("", value)
    if not literal:
        return False
    if "://" in literal:
        password = PASSWORD_IN_URL.search(literal)
        return password is not None and password.group(1) != ""
    return True


def manifest_secret_problems(documents: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """A Secret here is a template (no values); secrets reach containers only from a Secret."""
    problems = []
    for file, document in documents:
        kind, name = document.get("kind"), document.get("metadata", {}).get("name")
        if kind == "Secret":
            values = {**(document.get("stringData") or {}), **(document.get("data") or {})}
            problems += [
                f"{file}: Secret {name} holds a value for {key}" for key, value in values.items() if value
            ]
        if kind == "ConfigMap":
            for key, value in (document.get("data") or {}).items():
                if is_secret(key):
                    problems.append(f"{file}: ConfigMap {name} holds the secret {key}")
                elif PASSWORD_IN_URL.search(str(value)):
                    problems.append(f"{file}: ConfigMap {name}: {key} has a password in its URL")
    for kind, name, spec in workloads(documents):
        for container in [*(spec.get("initContainers") or []), *spec["containers"]]:
            for entry in container.get("env") or []:
                if "value" not in entry:
                    continue
                if is_secret(entry["name"]) or PASSWORD_IN_URL.search(str(entry["value"])):
                    problems.append(
                        f"{kind} {name}, container {container['name']}: {entry['name']} is written in the "
                        "manifest; a secret comes from the Secret (secretKeyRef)"
                    )
    return problems


def secret_template_problems(documents: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The template names exactly the keys the workloads read from it."""
    templates = {
        document["metadata"]["name"]: document
        for _file, document in documents
        if document["kind"] == "Secret"
    }
    problems = []
    used: dict[str, set[str]] = {}
    for kind, name, spec in workloads(documents):
        for container in [*(spec.get("initContainers") or []), *spec["containers"]]:
            for entry in container.get("env") or []:
                reference = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if reference:
                    used.setdefault(reference["name"], set()).add(reference["key"])
                    if reference["name"] not in templates:
                        problems.append(
                            f"{kind} {name} reads Secret {reference['name']}, which no template defines"
                        )
    for secret, keys in used.items():
        template = templates.get(secret)
        if template is None:
            continue
        defined = set(template.get("stringData") or {}) | set(template.get("data") or {})
        problems += [f"Secret {secret}: no key {key} in the template" for key in sorted(keys - defined)]
        problems += [f"Secret {secret}: {key} is read by no workload" for key in sorted(defined - keys)]
    return problems


def compose_secret_problems(compose: Mapping[str, Any]) -> list[str]:
    """In compose a secret is a required ``${VAR:?...}`` (or empty): never a value in the file."""
    problems = []
    for service_name, service in compose["services"].items():
        for name, value in environment(service).items():
            if (is_secret(name) or PASSWORD_IN_URL.search(value)) and _literal_secret(value):
                problems.append(
                    f"compose {service_name}: {name} is written in the file, not ${{{name}:?...}}"
                )
            for variable in ANY_VARIABLE.findall(value):
                if is_secret(variable) and variable not in REQUIRED_VARIABLE.findall(value):
                    problems.append(
                        f"compose {service_name}: {variable} has a default; a secret must be required"
                    )
    return problems


def unknown_setting_problems(
    compose: Mapping[str, Any],
    compose_text: str,
    documents: list[tuple[str, dict[str, Any]]],
    known: set[str],
) -> list[str]:
    """Every variable the files give our containers, or read from the operator, is a setting."""
    problems = []
    for service_name, service in our_services(compose).items():
        problems += [
            f"compose {service_name}: {name} is no setting (.env.example)"
            for name in sorted(set(environment(service)) - known)
        ]
    problems += [
        f"compose: ${{{name}}} is no setting (.env.example)"
        for name in sorted(set(ANY_VARIABLE.findall(compose_text)) - known)
    ]
    for name, keys in configmap_keys(documents).items():
        problems += [f"ConfigMap {name}: {key} is no setting (.env.example)" for key in sorted(keys - known)]
    for kind, name, spec in workloads(documents):
        for container in spec["containers"]:
            for entry in container.get("env") or []:
                if entry["name"] not in known:
                    problems.append(f"{kind} {name}: {entry['name']} is no setting (.env.example)")
    return problems


def rasa_environment_problems(
    compose: Mapping[str, Any], documents: list[tuple[str, dict[str, Any]]], needed: set[str]
) -> list[str]:
    """Rasa expands every ``${VAR}`` of its endpoints and credentials, and will not start without one."""
    problems = []
    service = compose["services"].get(RASA)
    if service is None:
        problems.append("compose has no rasa service")
    else:
        problems += [
            f"compose rasa: {name} is not set" for name in sorted(needed - set(environment(service)))
        ]
    configmaps = configmap_keys(documents)
    found = False
    for kind, name, spec in workloads(documents):
        if name == RASA:
            found = True
            given = container_variables(main_container(name, spec), configmaps)
            problems += [f"{kind} rasa: {variable} is not set" for variable in sorted(needed - given)]
    if not found:
        problems.append("Kubernetes has no rasa workload")
    return problems


@dataclass(frozen=True)
class Component:
    """What one component is, wherever it runs."""

    image: str
    command: tuple[str, ...]
    health: tuple[int, str] | None  # (port, path) of the URL that says it is up
    cpu_millis: int | None
    memory_bytes: int | None


def compose_components(compose: Mapping[str, Any]) -> dict[str, Component]:
    components = {}
    for name, service in our_services(compose).items():
        command = [*(service.get("entrypoint") or []), *(service.get("command") or [])]
        test = (service.get("healthcheck") or {}).get("test") or []
        health_match = HEALTH_URL.search(" ".join(test) if isinstance(test, list) else str(test))
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        components[name] = Component(
            image=service["image"],
            command=tuple(str(part) for part in command),
            health=(int(health_match.group(1)), health_match.group(2)) if health_match else None,
            cpu_millis=cpu_millis(limits["cpus"]) if "cpus" in limits else None,
            memory_bytes=compose_bytes(limits["memory"]) if "memory" in limits else None,
        )
    return components


def _probe_target(container: Mapping[str, Any]) -> tuple[int, str] | None:
    http = (container.get("readinessProbe") or {}).get("httpGet")
    if not http:
        return None
    port = http["port"]
    if isinstance(port, str):
        named = {entry.get("name"): entry["containerPort"] for entry in container.get("ports") or []}
        port = named.get(port, -1)
    return int(port), str(http.get("path", "/"))


def kubernetes_components(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Component]:
    components = {}
    for _kind, name, spec in workloads(documents):
        container = main_container(name, spec)
        if not ours(container.get("image", "")):
            continue
        limits = (container.get("resources") or {}).get("limits") or {}
        components[name] = Component(
            image=container["image"],
            command=tuple(
                str(part) for part in [*(container.get("command") or []), *(container.get("args") or [])]
            ),
            health=_probe_target(container),
            cpu_millis=cpu_millis(limits["cpu"]) if "cpu" in limits else None,
            memory_bytes=kubernetes_bytes(limits["memory"]) if "memory" in limits else None,
        )
    return components


def parity_problems(compose: Mapping[str, Any], documents: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Compose and Kubernetes run the same components, the same way."""
    in_compose, in_kubernetes = compose_components(compose), kubernetes_components(documents)
    problems = [f"{name} runs in compose only" for name in sorted(set(in_compose) - set(in_kubernetes))]
    problems += [f"{name} runs in Kubernetes only" for name in sorted(set(in_kubernetes) - set(in_compose))]
    for name in sorted(set(in_compose) & set(in_kubernetes)):
        here, there = in_compose[name], in_kubernetes[name]
        for field in ("image", "command", "health", "cpu_millis", "memory_bytes"):
            if getattr(here, field) != getattr(there, field):
                kubernetes_value = getattr(there, field)
                problems.append(
                    f"{name}: {field} is {getattr(here, field)} in compose, {kubernetes_value} in Kubernetes"
                )
    return problems


def compose_service_problems(compose: Mapping[str, Any]) -> list[str]:
    """Health checks, limits and pinned images in compose too; one-shot services need no health check."""
    problems = []
    for name, service in compose["services"].items():
        image = image_problem(service.get("image", ""))
        if image:
            problems.append(f"compose {name}: {image}")
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        problems += [f"compose {name}: no {key} limit" for key in ("cpus", "memory") if key not in limits]
        one_shot = str(service.get("restart", "no")) == "no"
        healthcheck = service.get("healthcheck") or {}
        if (
            not one_shot
            and name not in WITHOUT_PROBES
            and (not healthcheck.get("test") or healthcheck.get("disable"))
        ):
            problems.append(f"compose {name}: no health check")
        for dependency, condition in (service.get("depends_on") or {}).items():
            wanted = condition.get("condition") if isinstance(condition, dict) else None
            if wanted is None:
                problems.append(f"compose {name}: depends on {dependency} without a condition")
    return problems


def kustomization_problems(directory: Path = K8S_DIR) -> list[str]:
    """kubectl apply -k applies every manifest but the Secret template."""
    listed = set((yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8")) or {}).get("resources") or [])
    files = {path.name for path in directory.glob("*.yaml")} - {KUSTOMIZATION.name, SECRET_TEMPLATE.name}
    problems = [f"kustomization.yaml does not apply {name}" for name in sorted(files - listed)]
    problems += [f"kustomization.yaml lists {name}, which is not there" for name in sorted(listed - files)]
    if SECRET_TEMPLATE.name in listed:
        problems.append("kustomization.yaml applies the Secret template (empty secrets)")
    return problems


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined.append(pending + stripped)
        pending = ""
    instructions = []
    for line in joined:
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def dockerfile_problems(text: str, lock: str, threads: Mapping[str, str]) -> list[str]:
    """Pinned bases, the lock, a non-root user, nothing private copied in, one thread per library."""
    instructions = dockerfile_instructions(text)
    problems = []
    stages = [index for index, (word, _) in enumerate(instructions) if word == "FROM"]
    if not stages:
        return ["no FROM"]
    for index in stages:
        image = next(part for part in instructions[index][1].split() if not part.startswith("--"))
        problem = image_problem(image)
        if problem:
            problems.append(f"FROM {problem}")
    final = instructions[stages[-1] :]
    users = [arguments for word, arguments in final if word == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the final stage does not run as a non-root USER")
    runs = [arguments for word, arguments in instructions if word == "RUN"]
    if not any("pip install" in run and "-c " in run and lock in run for run in runs):
        problems.append(f"no `pip install ... -c <{lock}>`: the versions are not the lock's")
    for word, arguments in instructions:
        if word in ("COPY", "ADD"):
            sources = [part for part in arguments.split()[:-1] if not part.startswith("--")]
            problems += [
                f"{word} {source}: models, run state and .env are never in an image"
                for source in sources
                if re.search(r"(^|/)(models|\.run|\.env)(/|$)", source)
            ]
        if word in ("ENV", "ARG"):
            names = re.findall(r"(\w+)=", arguments) or arguments.split()[:1]
            problems += [f"{word} {name}: a secret is never in an image" for name in names if is_secret(name)]
    environment_set = dict(
        re.findall(r"(\w+)=(\S+)", " ".join(arguments for word, arguments in final if word == "ENV"))
    )
    problems += [
        f"ENV {name}={value} is missing (one process per core)"
        for name, value in threads.items()
        if environment_set.get(name) != value
    ]
    return problems


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(path, os.X_OK)), None
    )


def nginx_test(conf_text: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on the configuration. Compose's service names resolve only inside its network,
    so they become loopback here; its /tmp paths move into ``workdir``."""
    binary = nginx_binary()
    if binary is None:
        pytest.fail("nginx is not installed: run scripts/setup_nginx.sh (Debian's nginx-light)")
    local = re.sub(r"(\bserver\s+)[a-z][\w.-]*(:\d+)", r"\g<1>127.0.0.1\2", conf_text)
    local = local.replace("/tmp/", f"{workdir}/")
    conf = workdir / "nginx.conf"
    conf.write_text(local, encoding="utf-8")
    return subprocess.run(
        [binary, "-t", "-q", "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _directives(conf_text: str, name: str) -> list[list[str]]:
    without_comments = re.sub(r"#[^\n]*", "", conf_text)
    return [match.split() for match in re.findall(rf"(?:^|[;{{}}\s]){name}\s+([^;]*);", without_comments)]


def nginx_policy_problems(conf_text: str, compose: Mapping[str, Any], channel_limit: int) -> list[str]:
    """Never a retried POST, a body limit just above the channels' own, upstreams that exist."""
    problems = []
    for values in _directives(conf_text, "proxy_next_upstream"):
        extra = set(values) - RETRY_CONDITIONS
        if extra:
            problems.append(
                f"proxy_next_upstream {' '.join(values)}: only error and timeout, so a request that "
                f"reached a replica is never sent again ({', '.join(sorted(extra))} is not allowed)"
            )
    sizes = _directives(conf_text, "client_max_body_size")
    if not sizes:
        problems.append("no client_max_body_size")
    for values in sizes:
        size = nginx_bytes(values[0])
        if not channel_limit <= size <= MAX_PROXY_BODY:
            problems.append(
                f"client_max_body_size {values[0]}: between the channels' limit ({channel_limit} bytes, "
                f"so they answer it themselves) and {MAX_PROXY_BODY} bytes"
            )
    health_ports = {
        name: component.health[0]
        for name, component in compose_components(compose).items()
        if component.health
    }
    upstreams = dict(re.findall(r"upstream\s+([\w-]+)\s*\{([^}]*)\}", conf_text))
    if not upstreams:
        problems.append("no upstream")
    for upstream, body in upstreams.items():
        if not re.search(r"\bkeepalive\s+\d+;", body):
            problems.append(f"upstream {upstream}: no keepalive")
        for host, port in re.findall(r"\bserver\s+([\w.-]+):(\d+)", body):
            if host not in compose["services"]:
                problems.append(f"upstream {upstream}: {host} is no compose service")
            elif health_ports.get(host) != int(port):
                problems.append(f"upstream {upstream}: {host} does not listen on {port}")
    for target in re.findall(r"proxy_pass\s+https?://([\w.-]+)", conf_text):
        if target not in upstreams:
            problems.append(f"proxy_pass to {target}, which is no upstream")
    return problems


def ingress_problems(documents: list[tuple[str, dict[str, Any]]], conf_text: str) -> list[str]:
    """The Ingress keeps nginx.conf's body limit and retry rule."""
    problems = []
    size = _directives(conf_text, "client_max_body_size")
    retry = _directives(conf_text, "proxy_next_upstream")
    for file, document in documents:
        if document.get("kind") != "Ingress":
            continue
        annotations = document["metadata"].get("annotations") or {}
        if size and annotations.get("nginx.ingress.kubernetes.io/proxy-body-size") != size[0][0]:
            problems.append(f"{file}: proxy-body-size is not nginx.conf's {size[0][0]}")
        wanted = " ".join(retry[0]) if retry else None
        if annotations.get("nginx.ingress.kubernetes.io/proxy-next-upstream") != wanted:
            problems.append(f"{file}: proxy-next-upstream is not nginx.conf's {wanted}")
    return problems


# --- running docker-compose --------------------------------------------------------------------


def required_compose_variables(compose_text: str) -> set[str]:
    return set(REQUIRED_VARIABLE.findall(compose_text))


def compose_config(variables: Mapping[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """``docker-compose config -q`` with only these variables (and an empty --env-file, so no .env counts)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: run scripts/setup_deploy_lint.sh (Debian's docker-compose)")
    env_file = workdir / "empty.env"
    env_file.write_text("", encoding="utf-8")
    return subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), **variables},
    )


def dummy_values(names: set[str]) -> dict[str, str]:
    return {name: f"dummy-{name.lower()}-0123456789" for name in names}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def manifests() -> list[tuple[str, dict[str, Any]]]:
    return load_manifests()


@pytest.fixture(scope="module")
def channel_limit() -> int:
    return int(importlib.import_module(CHANNEL_LIMITS_MODULE).MAX_BODY_BYTES)


@pytest.fixture(scope="module")
def nginx_conf() -> str:
    return NGINX_CONF.read_text(encoding="utf-8")


# --- the deployment as it is -------------------------------------------------------------------


def test_compose_config_passes_with_its_secrets_set(compose_text: str, tmp_path: Path) -> None:
    required = required_compose_variables(compose_text)
    assert "RASA_API_TOKEN" in required and "TRACKER_DB_PASSWORD" in required
    result = compose_config(dummy_values(required), tmp_path)
    assert result.returncode == 0, result.stderr


def test_compose_config_stops_and_names_a_missing_secret(compose_text: str, tmp_path: Path) -> None:
    required = required_compose_variables(compose_text)
    result = compose_config(dummy_values(required - {"RASA_API_TOKEN"}), tmp_path)
    assert result.returncode != 0
    assert "RASA_API_TOKEN" in result.stderr


def test_every_manifest_validates_against_the_kubernetes_schema(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    kinds = {document["kind"] for _file, document in manifests}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "Job", "Ingress", "PodDisruptionBudget"} <= kinds
    assert schema_problems(manifests) == []


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    assert kustomization_problems() == []


def test_every_container_has_probes_limits_a_pinned_image_and_no_privileges(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    assert container_problems(manifests) == []


def test_no_secret_is_written_in_a_manifest(manifests: list[tuple[str, dict[str, Any]]]) -> None:
    assert manifest_secret_problems(manifests) == []
    assert secret_template_problems(manifests) == []


def test_no_secret_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    assert compose_secret_problems(compose) == []


def test_compose_services_have_health_checks_limits_and_pinned_images(compose: dict[str, Any]) -> None:
    assert compose_service_problems(compose) == []


def test_every_variable_set_is_a_real_setting(
    compose: dict[str, Any], compose_text: str, manifests: list[tuple[str, dict[str, Any]]]
) -> None:
    assert unknown_setting_problems(compose, compose_text, manifests, setting_names()) == []


def test_rasa_gets_every_variable_of_its_endpoints_and_credentials(
    compose: dict[str, Any], manifests: list[tuple[str, dict[str, Any]]]
) -> None:
    needed = rasa_variables()
    assert {"TRACKER_DB_DIALECT", "ACTION_SERVER_TOKEN", "WHATSAPP_APP_SECRET"} <= needed
    assert rasa_environment_problems(compose, manifests, needed) == []


def test_compose_and_kubernetes_run_the_same_components_the_same_way(
    compose: dict[str, Any], manifests: list[tuple[str, dict[str, Any]]]
) -> None:
    assert set(compose_components(compose)) == {
        "rasa", "actions", "registry", "registry-migrate", "review", "outreach-worker",
    }  # fmt: skip
    assert parity_problems(compose, manifests) == []


def test_several_rasa_and_action_servers_share_the_stores(
    compose: dict[str, Any], manifests: list[tuple[str, dict[str, Any]]]
) -> None:
    """Replicas are the point; they are only safe with the shared tracker and lock stores."""
    for name in ("rasa", "actions"):
        assert compose["services"][name]["deploy"]["replicas"] >= 2
    deployments = {
        document["metadata"]["name"]: document
        for _file, document in manifests
        if document["kind"] == "Deployment"
    }
    assert deployments["rasa"]["spec"]["replicas"] >= 2 and deployments["actions"]["spec"]["replicas"] >= 2
    settings = {
        key: value
        for keys in [d.get("data") or {} for _f, d in manifests if d["kind"] == "ConfigMap"]
        for key, value in keys.items()
    }
    rasa_env = environment(compose["services"]["rasa"])
    for values in (settings, rasa_env):
        assert values["TRACKER_DB_DIALECT"] == "postgresql"
        assert values["LOCK_STORE_TYPE"] == "redis"
    assert environment(compose["services"]["rasa"])["WHATSAPP_SEEN_STORE_URL"].startswith("redis://")
    assert any(d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "rasa" for _f, d in manifests)


def test_images_are_built_from_the_locks_as_non_root_without_secrets() -> None:
    from core.threads import THREADS

    assert THREADS  # one thread per library and process (core/threads.py), which the images repeat
    for image, (path, lock) in DOCKERFILES.items():
        problems = dockerfile_problems(path.read_text(encoding="utf-8"), lock, THREADS)
        assert problems == [], f"{image}: {problems}"


# Copied with their folder but never run in a server: `make profile` runs it in the Rasa env.
DEVELOPER_TOOLS = {"rasa_project/profiling.py"}


def project_imports(folder: Path) -> set[str]:
    """The repository's own top-level packages that the Python files under ``folder`` import."""
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    found: set[str] = set()
    for source in folder.rglob("*.py"):
        if source.relative_to(ROOT).as_posix() in DEVELOPER_TOOLS:
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found & packages


def test_each_image_copies_every_project_package_its_code_imports() -> None:
    """A package both servers import (core/, embedding/) left out of an image fails at its first
    import in production, not in any test here: the images are never built in CI."""
    for image, (path, _lock) in DOCKERFILES.items():
        instructions = dockerfile_instructions(path.read_text(encoding="utf-8"))
        copied = {
            source.strip("/")
            for word, arguments in instructions
            if word == "COPY" and "--from" not in arguments
            for source in arguments.split()[:-1]
        }
        ignore = path.with_name(path.name + ".dockerignore").read_text(encoding="utf-8").splitlines()
        sent = {line[1:].strip("/") for line in ignore if line.startswith("!")}
        needed = set().union(*(project_imports(ROOT / name) for name in copied if (ROOT / name).is_dir()))
        assert needed <= copied, f"{image} does not copy {sorted(needed - copied)}"
        assert needed <= sent, f"{image}'s .dockerignore does not send {sorted(needed - sent)}"


def test_the_rasa_entrypoint_refuses_an_empty_api_token(tmp_path: Path) -> None:
    """With --enable-api and no token, Rasa's HTTP API is open to anyone: the image will not start."""
    entrypoint = DEPLOY / "images" / "rasa-entrypoint.sh"
    assert os.access(entrypoint, os.X_OK), "the image copies it as it is: it must be executable"
    result = subprocess.run(
        ["/bin/sh", str(entrypoint), "run"], capture_output=True, text=True, timeout=10, check=False,
        env={"PATH": "/usr/bin:/bin", "RASA_API_TOKEN": ""},
    )  # fmt: skip
    assert result.returncode == 64
    assert "RASA_API_TOKEN is empty" in result.stderr
    fake_rasa = tmp_path / "rasa"
    fake_rasa.write_text('#!/bin/sh\necho "$@"\n', encoding="utf-8")
    fake_rasa.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(entrypoint), "run", "--enable-api"], capture_output=True, text=True, timeout=10,
        check=False, env={"PATH": f"{tmp_path}:/usr/bin:/bin", "RASA_API_TOKEN": "-s3cret-token"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # One argument, so a token that starts with "-" is not taken for an option.
    assert result.stdout.split() == ["run", "--enable-api", "--auth-token=-s3cret-token"]


def test_nginx_accepts_the_configuration(nginx_conf: str, tmp_path: Path) -> None:
    result = nginx_test(nginx_conf, tmp_path)
    assert result.returncode == 0, result.stderr


def test_nginx_never_resends_a_post_and_points_at_compose_services(
    nginx_conf: str, compose: dict[str, Any], channel_limit: int
) -> None:
    assert nginx_policy_problems(nginx_conf, compose, channel_limit) == []


def test_the_ingress_keeps_the_nginx_rules(
    manifests: list[tuple[str, dict[str, Any]]], nginx_conf: str
) -> None:
    assert ingress_problems(manifests, nginx_conf) == []


# --- broken copies: the checkers refuse them ---------------------------------------------------


def _deployment(manifests: list[tuple[str, dict[str, Any]]], name: str) -> dict[str, Any]:
    return next(
        document
        for _file, document in manifests
        if document["kind"] == "Deployment" and document["metadata"]["name"] == name
    )


def test_a_broken_manifest_is_refused(manifests: list[tuple[str, dict[str, Any]]]) -> None:
    broken = copy.deepcopy(manifests)
    rasa = main_container("rasa", pod_spec(_deployment(broken, "rasa")))
    del rasa["resources"]["limits"]
    del rasa["readinessProbe"]
    rasa["image"] = "tanyavaksin-rasa:latest"
    rasa["securityContext"]["readOnlyRootFilesystem"] = False
    rasa["env"].append({"name": "RASA_API_TOKEN", "value": "written-in-the-file"})
    rasa["env"].append({"name": "RASA_THREADS", "value": "4"})
    problems = container_problems(broken)
    assert "Deployment rasa, container rasa: no cpu in limits" in problems
    assert "Deployment rasa, container rasa: no memory in limits" in problems
    assert "Deployment rasa, container rasa: no readinessProbe" in problems
    assert "Deployment rasa, container rasa: image 'tanyavaksin-rasa:latest' is :latest" in problems
    assert "Deployment rasa, container rasa: the root filesystem is not read-only" in problems
    assert any(
        "RASA_API_TOKEN is written in the manifest" in problem for problem in manifest_secret_problems(broken)
    )
    unknown = unknown_setting_problems({"services": {}}, "", broken, setting_names())
    assert unknown == ["Deployment rasa: RASA_THREADS is no setting (.env.example)"]
    misspelt = {**_deployment(broken, "rasa"), "spek": {}}
    assert any("'spek' was unexpected" in problem for problem in schema_problems([("rasa.yaml", misspelt)]))


def test_a_filled_secret_template_and_a_missing_key_are_refused(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    broken = copy.deepcopy(manifests)
    secret = next(document for _file, document in broken if document["kind"] == "Secret")
    secret["stringData"]["RASA_API_TOKEN"] = "a-real-token"
    del secret["stringData"]["ACTION_SERVER_TOKEN"]
    assert any("holds a value for RASA_API_TOKEN" in problem for problem in manifest_secret_problems(broken))
    assert (
        "Secret tanyavaksin-secrets: no key ACTION_SERVER_TOKEN in the template"
        in secret_template_problems(broken)
    )


def test_compose_and_kubernetes_that_differ_are_refused(
    compose: dict[str, Any], manifests: list[tuple[str, dict[str, Any]]]
) -> None:
    broken_compose = copy.deepcopy(compose)
    broken_compose["services"]["actions"]["command"] = ["python", "-m", "actions.other"]
    broken_compose["services"]["review"]["healthcheck"]["test"] = [
        "CMD", "python", "-c", "urlopen('http://127.0.0.1:8078/health')",
    ]  # fmt: skip
    broken_compose["services"]["rasa"]["deploy"]["resources"]["limits"]["memory"] = "1G"
    del broken_compose["services"]["outreach-worker"]
    problems = parity_problems(broken_compose, manifests)
    assert any(problem.startswith("actions: command is") for problem in problems)
    assert any(problem.startswith("review: health is (8078, '/health') in compose") for problem in problems)
    assert any(problem.startswith("rasa: memory_bytes is 1073741824 in compose") for problem in problems)
    assert "outreach-worker runs in Kubernetes only" in problems


def test_a_compose_file_with_a_written_secret_or_a_missing_variable_is_refused(
    compose: dict[str, Any], manifests: list[tuple[str, dict[str, Any]]]
) -> None:
    broken = copy.deepcopy(compose)
    rasa = broken["services"]["rasa"]
    rasa["environment"]["ACTION_SERVER_TOKEN"] = "written-in-the-file"
    rasa["environment"]["RASA_API_TOKEN"] = "${RASA_API_TOKEN:-fallback}"
    del rasa["environment"]["TRACKER_DB_HOST"]
    broken["services"]["review"]["environment"]["REVIEW_DATABASE_URL"] = "postgresql://u:hunter2@db/review"
    del broken["services"]["registry"]["healthcheck"]
    problems = compose_secret_problems(broken)
    assert (
        "compose rasa: ACTION_SERVER_TOKEN is written in the file, not ${ACTION_SERVER_TOKEN:?...}"
        in problems
    )
    assert "compose rasa: RASA_API_TOKEN has a default; a secret must be required" in problems
    assert any("REVIEW_DATABASE_URL is written in the file" in problem for problem in problems)
    assert "compose rasa: TRACKER_DB_HOST is not set" in rasa_environment_problems(
        broken, manifests, rasa_variables()
    )
    assert "compose registry: no health check" in compose_service_problems(broken)


def test_an_image_that_runs_as_root_or_copies_models_is_refused() -> None:
    text = "FROM python:latest\nCOPY models/ /app/models/\nENV API_TOKEN=x\nRUN pip install -r x.in\n"
    problems = dockerfile_problems(text, "rasa.lock", {"OMP_NUM_THREADS": "1"})
    assert "FROM image 'python:latest' is :latest" in problems
    assert "the final stage does not run as a non-root USER" in problems
    assert "COPY models/: models, run state and .env are never in an image" in problems
    assert "ENV API_TOKEN: a secret is never in an image" in problems
    assert "no `pip install ... -c <rasa.lock>`: the versions are not the lock's" in problems
    assert "ENV OMP_NUM_THREADS=1 is missing (one process per core)" in problems


def test_an_nginx_that_resends_posts_or_points_nowhere_is_refused(
    nginx_conf: str, compose: dict[str, Any], channel_limit: int, tmp_path: Path
) -> None:
    broken = nginx_conf.replace(
        "proxy_next_upstream error timeout;", "proxy_next_upstream error timeout non_idempotent;"
    )
    broken = broken.replace("client_max_body_size 2m;", "client_max_body_size 100m;")
    broken = broken.replace("server actions:5055", "server action-server:5055")
    broken = broken.replace("keepalive 32;", "", 1)
    problems = nginx_policy_problems(broken, compose, channel_limit)
    assert any("non_idempotent is not allowed" in problem for problem in problems)
    assert any(problem.startswith("client_max_body_size 100m") for problem in problems)
    assert "upstream actions: action-server is no compose service" in problems
    assert "upstream rasa: no keepalive" in problems
    assert ingress_problems(
        [("ingress.yaml", {"kind": "Ingress", "metadata": {"annotations": {}}})], nginx_conf
    )
    unparsable = nginx_conf.replace("least_conn;", "least_conn", 1)
    result = nginx_test(unparsable, tmp_path)
    assert result.returncode != 0
