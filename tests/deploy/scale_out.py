#!/usr/bin/env python3
"""Static checks of the scale-out deployments (README: "Scaling out"), run by
tests/run.sh after check.py, whose helpers it uses:

- deploy/replica/docker-compose.yml validates against the Compose
  Specification's schema (as written, and interpolated with its .env.example);
  its serve config (the inline `configs` content, interpolated) validates
  against serve-config.schema.json; and it keeps the one way in of the
  one-machine deployment while serving the Tailscale Service: a `Services`
  entry whose Web key is the service's full name, filled in from .env, the
  sidecar advertising it and given time to withdraw it, tailmcp answering
  that name only;
- every resource in deploy/kubernetes validates against the Kubernetes
  schemas kubernetes-validate ships (strict: an unknown field is an error, so
  is a kind without a schema), for the oldest and the newest Kubernetes the
  manifests support; and the pod fits together the same way: tailmcp on a
  unix socket in an emptyDir shared only with its tailscale container,
  probes through `tailmcp health` on that socket, hardened containers,
  per-pod tailscale state with only the RBAC it needs, a
  PodDisruptionBudget; its init container's script, run here, renders the
  ConfigMap's serve config to the compose replica's, and refuses a bad name;
- the README's scale-out policy is valid JSON and grants what the configs
  accept, with the service and the hosts' tag both as destinations;
- a self-test breaks a copy of each file in memory, once per check, and fails
  unless the check rejects it.

`scale_out.py export [--env NAME=VALUE ...]` prints, as JSON, the replica
settings tests/all/replicas.rs runs three replicas with.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import check as base  # tests/deploy/check.py: Failed, interpolation, mounts, schemas

try:
    import jsonschema
    import yaml
    from kubernetes_validate import utils as kv
    from referencing import Registry, Resource
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(
        f"tests/deploy/scale_out.py: {e}. Install its requirements first:\n"
        "  target/pyenv/bin/pip install -r tests/deploy/requirements.txt   (tests/run.sh does)"
    )

ROOT = base.ROOT
REPLICA = "deploy/replica/docker-compose.yml"
REPLICA_ENV = "deploy/replica/.env.example"
K8S_DIR = "deploy/kubernetes"
# Sidecar containers (restartPolicy: Always on an init container) are GA since
# 1.33, and a StatefulSet needs no serviceName since then; the newest is the
# newest kubernetes-validate ships schemas for.
K8S_VERSIONS = ("1.33", "1.37")
SERVICE = "svc:mcp"
HOST_TAG = "tag:mcp-host"
# containerboot withdraws the service and waits up to 25 s before stopping
# tailscaled (cmd/containerboot/main.go, killTailscaled); the reference asks
# for a grace period of 30 s or more.
MIN_SIDECAR_GRACE = 30
# The pod's grace period covers tailscale's 25 s and then tailmcp's
# --shutdown-timeout (10 s).
MIN_POD_GRACE = 40
Failed = base.Failed


# ---------------------------------------------------------------- helpers


def duration_seconds(value) -> float | None:
    """A compose duration (`40s`, `1m30s`, `1h`) in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"((\d+)h)?((\d+)m(?!s))?((\d+)s)?((\d+)ms)?", str(value or ""))
    if not m or not str(value):
        return None
    h, mi, s, ms = (int(g) if g else 0 for g in (m.group(2), m.group(4), m.group(6), m.group(8)))
    return h * 3600 + mi * 60 + s + ms / 1000


def service_host(service: str, tailnet: str) -> str:
    return f"{service.removeprefix('svc:')}.{tailnet}"


def accepted_caps(serve: dict) -> set[str]:
    return {c for _, h in base.proxies(serve) for c in h.get("AcceptAppCaps") or []}


def check_service_serve(serve, where: str, tailnet: str, socket_ok) -> list[str]:
    """A serve config for the service alone: `Services` with svc:mcp, HTTPS
    on 443, the Web key the service's full name, every handler a Proxy to
    tailmcp's socket (`socket_ok(path)` returns an error or None)."""
    errors: list[str] = []
    if not isinstance(serve, dict):
        return [f"{where}: not a JSON object"]
    for key in ("TCP", "Web"):
        if serve.get(key):
            errors.append(
                f"{where}: a node-level {key} block: this deployment serves the service only "
                "(its TAILMCP_PUBLIC_NAMES would need the node's name too)"
            )
    if serve.get("AllowFunnel"):
        errors.append(f"{where}: AllowFunnel: Funnel does not work with Services and carries no identity")
    services = serve.get("Services") or {}
    if list(services) != [SERVICE]:
        errors.append(f"{where}: Services must hold exactly {SERVICE}, got {sorted(services)}")
    svc = services.get(SERVICE) or {}
    if svc.get("Tun"):
        errors.append(f"{where}: {SERVICE} is a Tun service: no identity headers on that path")
    if svc.get("TCP") != {"443": {"HTTPS": True}}:
        errors.append(f"{where}: {SERVICE}.TCP must be exactly HTTPS on 443, got {svc.get('TCP')!r}")
    want = f"{service_host(SERVICE, tailnet)}:443"
    web = svc.get("Web") or {}
    if list(web) != [want]:
        errors.append(
            f"{where}: {SERVICE}.Web must have exactly the key {want!r} (the service's full name: "
            f"tailscale replaces ${{TS_CERT_DOMAIN}} only with the node's name), got {sorted(web)}"
        )
    handlers = base.proxies(serve)
    if not handlers:
        errors.append(f"{where}: no handler")
    for hwhere, handler in handlers:
        target = handler.get("Proxy")
        if target is None:
            errors.append(f"{where}: {hwhere}: not a Proxy (only a Proxy gets identity headers)")
            continue
        if not str(target).startswith("unix:"):
            errors.append(
                f"{where}: {hwhere}: Proxy {target!r} is not a unix: socket (a TCP backend can be reached around serve)"
            )
            continue
        problem = socket_ok(target[len("unix:") :])
        if problem:
            errors.append(f"{where}: {hwhere}: Proxy {target!r} {problem}")
    return errors


def policy_from_readme(readme: str) -> tuple[dict | None, str | None]:
    """The first ```json block of the README's "Scaling out" section."""
    m = re.search(r"^## Scaling out\b.*?$(.*?)(?=^## )", readme, re.M | re.S)
    if not m:
        return None, 'README.md: no "## Scaling out" section'
    block = re.search(r"```json\n(.*?)```", m.group(1), re.S)
    if not block:
        return None, 'README.md: the "Scaling out" section has no ```json policy example'
    try:
        return json.loads(block.group(1)), None
    except json.JSONDecodeError as e:
        return None, f"README.md: the scale-out policy example is not JSON: {e}"


# ---------------------------------------------------------------- the compose replica


def replica_serve(raw: dict, env: dict[str, str]) -> tuple[dict | None, str, list[str]]:
    """(the serve config, interpolated; its raw text; errors), from the
    `configs` entry the sidecar mounts at TS_SERVE_CONFIG."""
    ts = (raw.get("services") or {}).get("tailscale") or {}
    path = base.environment(ts).get("TS_SERVE_CONFIG", "")
    for ref in ts.get("configs") or []:
        if isinstance(ref, dict) and ref.get("target") == path:
            config = (raw.get("configs") or {}).get(ref.get("source")) or {}
            text = config.get("content")
            if not isinstance(text, str):
                return None, "", [f"{REPLICA}: configs.{ref.get('source')} must have inline `content` (compose interpolates it)"]
            try:
                rendered = base.interpolate_str(text, env, f"{REPLICA}: configs.{ref.get('source')}")
                return json.loads(rendered), text, []
            except Failed as e:
                return None, text, [str(e)]
            except json.JSONDecodeError as e:
                return None, text, [f"{REPLICA}: configs.{ref.get('source')}: not JSON after interpolation: {e}"]
    return None, "", [
        f"{REPLICA}: services.tailscale: TS_SERVE_CONFIG {path!r} must be the target of a `configs` entry "
        "(long syntax) with inline content"
    ]


def check_replica(state: dict) -> list[str]:
    errors: list[str] = []
    raw, env = state["replica_raw"], state["replica_env"]
    try:
        compose = base.interpolate(raw, env, REPLICA)
    except Failed as e:
        return [str(e)]
    errors += base.schema_errors("compose", raw, REPLICA)
    errors += base.schema_errors("compose", compose, f"{REPLICA} (interpolated with {REPLICA_ENV})")
    services = compose.get("services") or {}
    if set(services) != {"tailscale", "tailmcp"}:
        errors.append(f"{REPLICA}: services must be tailscale and tailmcp, got {sorted(services)}")
    for name, svc in services.items():
        where = f"{REPLICA}: services.{name}"
        for key in ("ports", "expose"):
            if svc.get(key):
                errors.append(f"{where}: publishes {key} {svc[key]!r}: the only way in is tailscale serve")
        if svc.get("privileged") or svc.get("cap_add") or svc.get("network_mode") == "host":
            errors.append(f"{where}: privileged, cap_add or host network")
    ts, mcp = services.get("tailscale") or {}, services.get("tailmcp") or {}
    raw_ts = base.environment((raw.get("services") or {}).get("tailscale") or {})
    raw_mcp = base.environment((raw.get("services") or {}).get("tailmcp") or {})

    # --- the sidecar
    where = f"{REPLICA}: services.tailscale"
    root_image = (state["root_raw"].get("services") or {}).get("tailscale", {}).get("image")
    if ts.get("image") != root_image:
        errors.append(f"{where}: image {ts.get('image')!r} must be docker-compose.yml's pin {root_image!r}")
    ts_env, ts_mounts = base.environment(ts), base.mounts(ts)
    for key, value in (("TS_USERSPACE", "true"), ("TS_AUTH_ONCE", "true"), ("TS_EXPERIMENTAL_SERVICE_AUTO_ADVERTISEMENT", "true")):
        if ts_env.get(key) != value:
            errors.append(f"{where}: {key} must be {value!r}, got {ts_env.get(key)!r}")
    state_dir = ts_env.get("TS_STATE_DIR", "")
    r = base.resolve(state_dir, ts_mounts) if state_dir else None
    if not r or r[0] != "volume":
        errors.append(f"{where}: TS_STATE_DIR {state_dir!r} must be on a named volume (the node and its certificate)")
    for key in ("TS_AUTHKEY", "TS_HOSTNAME"):
        if f"${{{key}" not in raw_ts.get(key, "") or "tskey-" in raw_ts.get(key, ""):
            errors.append(f"{where}: {key} must come from .env (${{{key}...}}): it differs per deployment or replica")
    grace = duration_seconds(ts.get("stop_grace_period"))
    if grace is None or grace < MIN_SIDECAR_GRACE:
        errors.append(
            f"{where}: stop_grace_period {ts.get('stop_grace_period')!r} must be at least {MIN_SIDECAR_GRACE}s "
            "(the sidecar withdraws the service and waits for failover)"
        )
    dep = (ts.get("depends_on") or {}) if isinstance(ts.get("depends_on"), dict) else {}
    if (dep.get("tailmcp") or {}).get("condition") != "service_healthy":
        errors.append(f"{where}: depends_on tailmcp with condition service_healthy (advertise only once it answers)")
    base.healthcheck_argv(ts, where, errors)

    # --- tailmcp
    where = f"{REPLICA}: services.tailmcp"
    if "${TAILMCP_IMAGE" not in str(((raw.get("services") or {}).get("tailmcp") or {}).get("image", "")):
        errors.append(f"{where}: image must come from .env (${{TAILMCP_IMAGE...}}): every replica runs the same build")
    if mcp.get("build"):
        errors.append(f"{where}: build: every replica must run the same pushed image, not its own build")
    mcp_env, mcp_mounts = base.environment(mcp), base.mounts(mcp)
    if mcp.get("read_only") is not True:
        errors.append(f"{where}: read_only must be true")
    if "ALL" not in [str(c).upper() for c in mcp.get("cap_drop") or []]:
        errors.append(f"{where}: cap_drop must include ALL")
    if "no-new-privileges:true" not in [str(s) for s in mcp.get("security_opt") or []]:
        errors.append(f"{where}: security_opt must include no-new-privileges:true")
    if not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", str(mcp.get("user", ""))):
        errors.append(f"{where}: user must be a numeric non-root uid[:gid], got {mcp.get('user')!r}")
    if mcp.get("network_mode") != "none":
        errors.append(f"{where}: network_mode must be none, got {mcp.get('network_mode')!r}")
    for key in ("TAILMCP_DEV_IDENTITY", "TAILMCP_ALLOW_FUNNEL"):
        if key in mcp_env:
            errors.append(f"{where}: {key} must not be set on a tailnet")
    argv, image_env, _ = base.tailmcp_argv(mcp, state["dockerfile"], errors)
    listen = base.flag_value(argv, "--listen") or mcp_env.get("TAILMCP_LISTEN") or image_env.get("TAILMCP_LISTEN", "")
    socket = listen[len("unix:") :] if listen.startswith("unix:") else None
    sock = base.resolve(socket, mcp_mounts) if socket else None
    if socket is None:
        errors.append(f"{where}: must listen on a unix socket, got {listen!r}")
    elif not sock or sock[0] != "volume" or base.mount_for(socket, mcp_mounts)["read_only"]:
        errors.append(f"{where}: the socket {socket} must be in a writable named volume shared with the sidecar")
    health = base.healthcheck_argv(mcp, where, errors)
    if health and (health[:2] != ["tailmcp", "health"] or base.flag_value(health, "--listen") != listen):
        errors.append(f"{where}: healthcheck must be `tailmcp health --listen {listen}`, got {health!r}")
    cache = mcp_env.get("TAILMCP_CACHE_DIR") or image_env.get("TAILMCP_CACHE_DIR")
    cm = base.mount_for(cache, mcp_mounts) if cache else None
    if not cm or cm["type"] not in ("volume", "tmpfs") or cm["read_only"]:
        errors.append(f"{where}: the cache dir {cache!r} must be a writable volume or tmpfs")
    component = mcp_env.get("TAILMCP_COMPONENT")
    r = base.resolve(component, mcp_mounts) if component else None
    if not r or r[0] != "bind" or Path(r[1]).as_posix().lstrip("./") != "components":
        errors.append(f"{where}: the component {component!r} must be in ./components, bind-mounted (hot swap)")
    elif not base.mount_for(component, mcp_mounts)["read_only"]:
        errors.append(f"{where}: ./components must be mounted read-only")
    if socket and sock and not [m for m in ts_mounts if m["type"] == "volume" and m["source"] == sock[1]]:
        errors.append(f"{REPLICA}: services.tailscale must mount the socket's volume {sock[1]!r}")
    elif socket and sock and not [m for m in ts_mounts if m["source"] == sock[1] and m["read_only"]]:
        errors.append(f"{REPLICA}: services.tailscale should mount the socket's volume read-only")

    # --- the serve config: the service, named from .env, proxying to the socket
    serve, text, serve_errors = replica_serve(raw, env)
    errors += serve_errors
    tailnet = env.get("TAILNET_DNS_NAME", "")
    if serve is not None:
        errors += base.schema_errors("serve", serve, f"{REPLICA}: the serve config")
        if "${TAILNET_DNS_NAME" not in text:
            errors.append(f"{REPLICA}: the serve config must take the tailnet's name from .env (${{TAILNET_DNS_NAME}})")

        def socket_ok(path: str) -> str | None:
            seen = base.resolve(path, ts_mounts)
            if not seen or not sock or seen[0] != "volume" or (seen[1], seen[2]) != (sock[1], sock[2]):
                return f"is not the socket tailmcp listens on ({listen!r})"
            return None

        errors += check_service_serve(serve, f"{REPLICA}: the serve config", tailnet, socket_ok)
        if accepted_caps(serve) != accepted_caps(state["root_serve"]):
            errors.append(
                f"{REPLICA}: the serve config accepts {sorted(accepted_caps(serve))}, "
                f"config/serve.json {sorted(accepted_caps(state['root_serve']))}: the same capability everywhere"
            )
    names = {n.strip() for n in mcp_env.get("TAILMCP_PUBLIC_NAMES", "").split(",") if n.strip()}
    if names != {service_host(SERVICE, tailnet)}:
        errors.append(
            f"{where}: TAILMCP_PUBLIC_NAMES is {sorted(names)}, want the service's name "
            f"{service_host(SERVICE, tailnet)!r} (and only that)"
        )
    if "${TAILNET_DNS_NAME" not in raw_mcp.get("TAILMCP_PUBLIC_NAMES", ""):
        errors.append(f"{where}: TAILMCP_PUBLIC_NAMES must take the tailnet's name from .env")

    # --- secrets stay out of git and out of the image
    ignore = state["files"][".dockerignore"].split()
    if "**/.env" not in ignore:
        errors.append(".dockerignore: must exclude **/.env (deploy/replica/.env holds an auth key)")
    if "/deploy/replica/.env" not in state["files"][".gitignore"].split():
        errors.append(".gitignore: must ignore /deploy/replica/.env (it holds the auth key)")
    return errors


# ---------------------------------------------------------------- Kubernetes

_K8S_VALIDATORS: dict[tuple[str, str, str], object] = {}


def k8s_schema_errors(doc: dict, name: str) -> list[str]:
    """Validate one resource with kubernetes-validate's strict schemas, for
    each supported version. Validators are built once (kubernetes-validate's
    own `validate` reloads the schemas on every call)."""
    errors = []
    if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
        return [f"{name}: not a Kubernetes resource (apiVersion and kind)"]
    for version in K8S_VERSIONS:
        api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", str(doc["apiVersion"]))
        key = (version, str(doc["kind"]), api)
        validator = _K8S_VALIDATORS.get(key)
        if validator is None:
            folder = f"kubernetes-json-schema/v{version}.0-local-strict"
            try:
                schema = kv.schema_contents(f"{folder}/{str(doc['kind']).lower()}-{api}.json", version)
            except FileNotFoundError:
                errors.append(
                    f"{name}: no Kubernetes {version} schema for kind {doc['kind']} in {doc['apiVersion']}"
                )
                continue
            definitions = kv.schema_contents(f"{folder}/_definitions.json", version)
            registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
            validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
            _K8S_VALIDATORS[key] = validator
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(p) for p in e.absolute_path) or "(top)"
            errors.append(f"{name}: Kubernetes {version}: {path}: {e.message}")
    return errors


def find(docs: list[tuple[str, dict]], kind: str) -> list[tuple[str, dict]]:
    return [(f, d) for f, d in docs if isinstance(d, dict) and d.get("kind") == kind]


def env_map(container: dict) -> dict[str, dict]:
    return {e.get("name"): e for e in container.get("env") or []}


def env_value(container: dict, name: str, configmaps: dict[str, dict]) -> str | None:
    """An env var's value as the kubelet sets it: configMapKeyRef looked up,
    $(VAR) expanded from the variables defined before it (fieldRefs stay
    `$(NAME)`)."""
    resolved: dict[str, str] = {}
    for e in container.get("env") or []:
        if "value" in e:
            value = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                lambda m: resolved.get(m.group(1), m.group(0)),
                str(e["value"]),
            )
        elif ref := (e.get("valueFrom") or {}).get("configMapKeyRef"):
            value = (configmaps.get(ref.get("name")) or {}).get("data", {}).get(ref.get("key"))
            if value is None:
                value = f"<missing {ref.get('name')}/{ref.get('key')}>"
        elif ref := (e.get("valueFrom") or {}).get("fieldRef"):
            value = f"$({e.get('name')})"
        else:
            value = f"<from {sorted((e.get('valueFrom') or {}).keys())}>"
        resolved[e.get("name")] = value
    return resolved.get(name)


def volume_at(pod: dict, container: dict, path: str) -> tuple[dict, dict, str] | None:
    """(the volume, its mount, the path inside it) for a container path."""
    best = None
    for m in container.get("volumeMounts") or []:
        target = m["mountPath"].rstrip("/")
        if path == target or path.startswith(target + "/"):
            if best is None or len(target) > len(best["mountPath"].rstrip("/")):
                best = m
    if best is None:
        return None
    volume = next((v for v in pod.get("volumes") or [] if v.get("name") == best["name"]), None)
    if volume is None:
        return None
    rest = path[len(best["mountPath"].rstrip("/")) :].lstrip("/")
    if best.get("subPath"):
        rest = f"{best['subPath']}/{rest}".rstrip("/")
    return volume, best, rest


def probe_command(container: dict, kind: str) -> list[str] | None:
    probe = container.get(kind)
    if not probe:
        return None
    return [str(a) for a in (probe.get("exec") or {}).get("command") or []]


_RENDERED: dict[tuple[tuple[str, ...], str, str], tuple[str | None, str]] = {}


def render(script_container: dict, template_text: str, tailnet: str) -> tuple[str | None, str]:
    """Runs the render init container's command here, with its template and
    output paths moved into a temp dir: (the rendered text or None, stderr)."""
    cmd = [str(a) for a in script_container.get("command") or []] + [str(a) for a in script_container.get("args") or []]
    if cmd[:2] != ["/bin/sh", "-c"] or len(cmd) < 3:
        return None, f"the command must be /bin/sh -c SCRIPT, got {cmd[:2]!r}"
    key = (tuple(cmd), template_text, tailnet)
    if key not in _RENDERED:
        _RENDERED[key] = run_script(cmd[2], template_text, tailnet)
    return _RENDERED[key]


def run_script(script: str, template_text: str, tailnet: str) -> tuple[str | None, str]:
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.json"
        template.write_text(template_text, encoding="utf-8")
        out = Path(tmp) / "serve.json"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TAILNET_DNS_NAME": tailnet,
            "SERVE_TEMPLATE": str(template),
            "TS_SERVE_CONFIG": str(out),
        }
        done = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            return None, done.stderr.strip()
        if not out.exists():
            return None, "the script wrote nothing to $TS_SERVE_CONFIG"
        return out.read_text(encoding="utf-8"), done.stderr.strip()


SECURE = {
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
}


def check_container_security(pod_sc: dict, c: dict, where: str) -> list[str]:
    errors = []
    sc = c.get("securityContext") or {}
    run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if run_as_non_root is not True or not isinstance(uid, int) or uid == 0:
        errors.append(f"{where}: must run as non-root (runAsNonRoot: true, a non-zero runAsUser), got {run_as_non_root!r}, {uid!r}")
    for key, value in SECURE.items():
        if sc.get(key) is not value:
            errors.append(f"{where}: securityContext.{key} must be {str(value).lower()}")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
        errors.append(f"{where}: securityContext.capabilities must drop ALL and add none")
    if sc.get("privileged"):
        errors.append(f"{where}: privileged")
    return errors


def check_kubernetes(state: dict, compose_serve: dict | None) -> list[str]:
    errors: list[str] = []
    docs = state["k8s_docs"]
    for f, doc in docs:
        meta = (doc.get("metadata") or {}) if isinstance(doc, dict) else {}
        kind = doc.get("kind", "?") if isinstance(doc, dict) else "?"
        errors += k8s_schema_errors(doc, f"{f}: {kind}/{meta.get('name', '?')}")
    main = [(f, d) for f, d in docs if f == f"{K8S_DIR}/tailmcp.yaml"]
    one = lambda kind: next((d for _, d in find(main, kind)), None)  # noqa: E731
    sts, ns = one("StatefulSet"), one("Namespace")
    where = f"{K8S_DIR}/tailmcp.yaml"
    if sts is None:
        return errors + [
            f"{where}: the replicas must be a StatefulSet (stable pod names keep each replica's "
            "tailscale state Secret, node and certificate across replacements)"
        ]
    namespace = (sts.get("metadata") or {}).get("namespace")
    if ns is None or (ns.get("metadata") or {}).get("name") != namespace:
        errors.append(f"{where}: a Namespace {namespace!r} for the StatefulSet")
    elif ((ns.get("metadata") or {}).get("labels") or {}).get("pod-security.kubernetes.io/enforce") != "restricted":
        errors.append(f"{where}: Namespace {namespace}: label pod-security.kubernetes.io/enforce must be restricted")
    for _, d in main:
        if d.get("kind") != "Namespace" and (d.get("metadata") or {}).get("namespace") != namespace:
            errors.append(f"{where}: {d.get('kind')}/{(d.get('metadata') or {}).get('name')} must be in namespace {namespace}")
    configmaps = {(d.get("metadata") or {}).get("name"): d for _, d in find(main, "ConfigMap")}
    spec = sts.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        errors.append(f"{where}: StatefulSet selector {selector} must match the pod's labels {labels}")
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 2:
        errors.append(f"{where}: replicas must be 2 or more, got {replicas!r}")
        replicas = 2

    # --- the pod
    w = f"{where}: pod"
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            errors.append(f"{w}: {key}")
    for v in pod.get("volumes") or []:
        if "hostPath" in v:
            errors.append(f"{w}: hostPath volume {v.get('name')!r}")
    pod_sc = pod.get("securityContext") or {}
    if (pod_sc.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        errors.append(f"{w}: securityContext.seccompProfile must be RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        errors.append(f"{w}: automountServiceAccountToken must be false (only tailscale gets a token)")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if not isinstance(grace, int) or grace < MIN_POD_GRACE:
        errors.append(
            f"{w}: terminationGracePeriodSeconds {grace!r} must be at least {MIN_POD_GRACE} "
            "(tailscale withdraws the service and waits up to 25 s, then tailmcp drains)"
        )
    inits = pod.get("initContainers") or []
    mains = pod.get("containers") or []
    by_name = {c.get("name"): c for c in inits + mains}
    for c in inits + mains:
        errors += check_container_security(pod_sc, c, f"{w}: container {c.get('name')}")
        if c.get("ports"):
            errors.append(f"{w}: container {c.get('name')} has ports: the only way in is tailscale serve")
    mcp, ts, rend = by_name.get("tailmcp"), by_name.get("tailscale"), by_name.get("render-serve-config")
    if mcp is None or ts is None or rend is None:
        return errors + [f"{w}: containers tailmcp, tailscale and render-serve-config, got {sorted(by_name)}"]
    if not (mcp in inits and mcp.get("restartPolicy") == "Always"):
        errors.append(
            f"{w}: tailmcp must be a sidecar container (an init container with restartPolicy: Always): "
            "started before tailscale and stopped after it"
        )
    if ts not in mains:
        errors.append(f"{w}: tailscale must be a regular container (stopped before tailmcp)")
    if not (rend in inits and rend.get("restartPolicy") is None and inits.index(rend) < inits.index(mcp) if mcp in inits else False):
        errors.append(f"{w}: render-serve-config must be a plain init container, before tailmcp")
    if not probe_command(mcp, "startupProbe"):
        errors.append(f"{w}: tailmcp needs a startupProbe (tailscale starts only once it passes)")

    # tailmcp: the socket, probes, name check, cache, components
    cw = f"{w}: container tailmcp"
    listen = env_value(mcp, "TAILMCP_LISTEN", configmaps) or ""
    socket = listen[len("unix:") :] if listen.startswith("unix:") else None
    sock = volume_at(pod, mcp, socket) if socket else None
    if socket is None:
        errors.append(f"{cw}: TAILMCP_LISTEN must be a unix socket, got {listen!r}")
    elif not sock or "emptyDir" not in sock[0] or sock[1].get("readOnly"):
        errors.append(f"{cw}: the socket {socket} must be in a writable emptyDir")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        command = probe_command(mcp, kind)
        if kind != "startupProbe" and command is None:
            errors.append(f"{cw}: needs a {kind}")
        elif command is not None and command != ["tailmcp", "health", "--listen", listen]:
            errors.append(f"{cw}: {kind} must exec `tailmcp health --listen {listen}`, got {command!r}")
    env = env_map(mcp)
    for key in ("TAILMCP_DEV_IDENTITY", "TAILMCP_ALLOW_FUNNEL"):
        if key in env:
            errors.append(f"{cw}: {key} must not be set on a tailnet")
    serve_cm = configmaps.get("tailmcp-serve") or {}
    tailnet = (serve_cm.get("data") or {}).get("TAILNET_DNS_NAME", "")
    names = {n.strip() for n in (env_value(mcp, "TAILMCP_PUBLIC_NAMES", configmaps) or "").split(",") if n.strip()}
    if names != {service_host(SERVICE, tailnet)}:
        errors.append(f"{cw}: TAILMCP_PUBLIC_NAMES resolves to {sorted(names)}, want {service_host(SERVICE, tailnet)!r}")
    cache = env_value(mcp, "TAILMCP_CACHE_DIR", configmaps)
    c = volume_at(pod, mcp, cache) if cache else None
    if not c or "emptyDir" not in c[0] or c[1].get("readOnly"):
        errors.append(f"{cw}: TAILMCP_CACHE_DIR {cache!r} must be a writable emptyDir (the root is read-only)")
    # Audited, with a policy, out of the box.
    if env_value(mcp, "TAILMCP_AUDIT_LOG", configmaps) != "stderr":
        errors.append(f"{cw}: TAILMCP_AUDIT_LOG must be stderr (the container's log)")
    policy = env_value(mcp, "TAILMCP_POLICY", configmaps)
    p = volume_at(pod, mcp, policy) if policy else None
    if not p or "configMap" not in p[0]:
        errors.append(f"{cw}: TAILMCP_POLICY {policy!r} must be on a ConfigMap volume")
    else:
        if p[1].get("subPath") or not p[1].get("readOnly"):
            errors.append(f"{cw}: the policy ConfigMap must be mounted whole and readOnly (subPath never updates)")
        cm = configmaps.get(p[0]["configMap"].get("name")) or {}
        if "[[allow]]" not in str((cm.get("data") or {}).get(p[2].lstrip("/"), "")):
            errors.append(f"{cw}: the policy {policy!r} must be a key of a ConfigMap in the manifest, with an [[allow]] rule")
    component = env_value(mcp, "TAILMCP_COMPONENT", configmaps)
    c = volume_at(pod, mcp, component) if component else None
    if not c or "configMap" not in c[0]:
        errors.append(f"{cw}: TAILMCP_COMPONENT {component!r} must be on a ConfigMap volume (hot swap)")
    else:
        if c[1].get("subPath"):
            errors.append(f"{cw}: the components ConfigMap is mounted with subPath, which never receives updates")
        if not c[1].get("readOnly"):
            errors.append(f"{cw}: the components volume must be mounted readOnly")
        if c[0]["configMap"].get("optional") is not True:
            errors.append(f"{cw}: the components ConfigMap must be optional (the built-in component serves until it exists)")

    # tailscale: state per pod, the key from a Secret, serve config, socket
    tw = f"{w}: container tailscale"
    ts_env = env_map(ts)
    root_image = (state["root_raw"].get("services") or {}).get("tailscale", {}).get("image")
    for c2 in (ts, rend):
        if c2.get("image") != root_image:
            errors.append(f"{w}: container {c2.get('name')}: image {c2.get('image')!r} must be docker-compose.yml's pin {root_image!r}")
    for key, value in (("TS_USERSPACE", "true"), ("TS_AUTH_ONCE", "true"), ("TS_EXPERIMENTAL_SERVICE_AUTO_ADVERTISEMENT", "true")):
        if env_value(ts, key, configmaps) != value:
            errors.append(f"{tw}: {key} must be {value!r}")
    pod_name = (ts_env.get("POD_NAME") or {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    secret = env_value(ts, "TS_KUBE_SECRET", configmaps) or ""
    if pod_name != "metadata.name" or "$(POD_NAME)" not in secret:
        errors.append(
            f"{tw}: TS_KUBE_SECRET must name a Secret per pod, from POD_NAME (fieldRef metadata.name) defined before it, got {secret!r}"
        )
    if not (ts_env.get("TS_AUTHKEY") or {}).get("valueFrom", {}).get("secretKeyRef") or "value" in (ts_env.get("TS_AUTHKEY") or {}):
        errors.append(f"{tw}: TS_AUTHKEY must come from a Secret (secretKeyRef), never be written here")
    ts_socket = env_value(ts, "TS_SOCKET", configmaps)
    ready = probe_command(ts, "readinessProbe") or []
    if not ready[:1] == ["tailscale"] or f"--socket={ts_socket}" not in ready:
        errors.append(f"{tw}: readinessProbe must run tailscale --socket={ts_socket} (the CLI's default socket is not there)")
    if socket and sock:
        seen = volume_at(pod, ts, socket)
        if not seen or seen[0] is not sock[0] or seen[2] != sock[2]:
            errors.append(f"{tw}: must mount the socket's volume at the same path ({socket})")
        elif not seen[1].get("readOnly"):
            errors.append(f"{tw}: should mount the socket's volume readOnly")
    for c2 in inits + mains:
        if c2 is not ts and any(m.get("mountPath") == "/var/run/secrets/kubernetes.io/serviceaccount" for m in c2.get("volumeMounts") or []):
            errors.append(f"{w}: container {c2.get('name')} mounts the service account token; only tailscale needs it")

    # the serve config: template -> render-serve-config -> tailscale
    serve_path = env_value(ts, "TS_SERVE_CONFIG", configmaps) or ""
    target = volume_at(pod, ts, serve_path)
    written = volume_at(pod, rend, env_value(rend, "TS_SERVE_CONFIG", configmaps) or "")
    if not target or not written or target[0] is not written[0] or target[2] != written[2] or "emptyDir" not in target[0]:
        errors.append(f"{w}: render-serve-config must write the file tailscale's TS_SERVE_CONFIG ({serve_path}) reads, in an emptyDir")
    tmpl = volume_at(pod, rend, env_value(rend, "SERVE_TEMPLATE", configmaps) or "")
    tmpl_key = None
    if tmpl and "configMap" in tmpl[0] and tmpl[0]["configMap"].get("name") == "tailmcp-serve":
        items = {i.get("path"): i.get("key") for i in tmpl[0]["configMap"].get("items") or []}
        tmpl_key = items.get(tmpl[2], tmpl[2] if not items else None)
    template = (serve_cm.get("data") or {}).get(tmpl_key or "", None)
    if template is None:
        errors.append(f"{w}: render-serve-config's SERVE_TEMPLATE must be a key of the tailmcp-serve ConfigMap")
    else:
        if "${TAILNET_DNS_NAME}" not in template:
            errors.append(f"{where}: tailmcp-serve's serve.json must take the tailnet's name from ${{TAILNET_DNS_NAME}}")
        if (env_map(rend).get("TAILNET_DNS_NAME") or {}).get("valueFrom", {}).get("configMapKeyRef", {}).get("name") != "tailmcp-serve":
            errors.append(f"{w}: render-serve-config must read TAILNET_DNS_NAME from the tailmcp-serve ConfigMap")
        text, stderr = render(rend, template, tailnet)
        if text is None:
            errors.append(f"{w}: render-serve-config failed for TAILNET_DNS_NAME={tailnet!r}: {stderr}")
        else:
            try:
                serve = json.loads(text)
            except json.JSONDecodeError as e:
                serve = None
                errors.append(f"{where}: the rendered serve config is not JSON: {e}")
            if serve is not None:
                errors += base.schema_errors("serve", serve, f"{where}: the rendered serve config")

                def socket_ok(path: str) -> str | None:
                    seen = volume_at(pod, ts, path)
                    if not seen or not sock or seen[0] is not sock[0] or seen[2] != sock[2]:
                        return f"is not the socket tailmcp listens on ({listen!r})"
                    return None

                errors += check_service_serve(serve, f"{where}: the rendered serve config", tailnet, socket_ok)
                if compose_serve is not None:
                    same = replica_serve(state["replica_raw"], dict(state["replica_env"], TAILNET_DNS_NAME=tailnet))[0]
                    if serve != same:
                        errors.append(
                            f"{where}: the rendered serve config differs from {REPLICA}'s for the same tailnet: "
                            "keep the two the same"
                        )
        for bad in ("", "evil.example.com", "tail1234.ts.net/../x", "a..ts.net", "tail1234.ts.net\nx"):
            if render(rend, template, bad)[0] is not None:
                errors.append(f"{w}: render-serve-config accepted TAILNET_DNS_NAME={bad!r}")

    # --- RBAC: exactly what the per-pod state Secrets need
    sa = pod.get("serviceAccountName")
    if not any((d.get("metadata") or {}).get("name") == sa for _, d in find(main, "ServiceAccount")):
        errors.append(f"{w}: serviceAccountName {sa!r} has no ServiceAccount here")
    bound = {
        ((d.get("roleRef") or {}).get("name"))
        for _, d in find(main, "RoleBinding")
        if any(s.get("kind") == "ServiceAccount" and s.get("name") == sa for s in d.get("subjects") or [])
        and (d.get("roleRef") or {}).get("kind") == "Role"
    }
    rules = [r for _, d in find(main, "Role") if (d.get("metadata") or {}).get("name") in bound for r in d.get("rules") or []]
    want_names = {secret.replace("$(POD_NAME)", f"{(sts.get('metadata') or {}).get('name')}-{i}") for i in range(replicas)}
    granted: dict[str, set] = {}
    for r in rules:
        if r.get("apiGroups") != [""] or r.get("resources") != ["secrets"]:
            errors.append(f"{where}: Role grants {r.get('resources')} in {r.get('apiGroups')}: only secrets are needed")
            continue
        for verb in r.get("verbs") or []:
            granted.setdefault(verb, set()).add(tuple(sorted(r.get("resourceNames") or ["*"])))
    if set(granted) != {"create", "get", "update", "patch"}:
        errors.append(f"{where}: the Role's verbs on secrets must be create, get, update and patch, got {sorted(granted)}")
    for verb in ("get", "update", "patch"):
        if granted.get(verb) and granted[verb] != {tuple(sorted(want_names))}:
            errors.append(
                f"{where}: the Role must allow {verb} on exactly the pods' state Secrets {sorted(want_names)}, "
                f"got {sorted(granted[verb])}"
            )

    # --- the PodDisruptionBudget
    pdbs = find(main, "PodDisruptionBudget")
    if not pdbs:
        errors.append(f"{where}: a PodDisruptionBudget for the replicas")
    for _, pdb in pdbs:
        p = pdb.get("spec") or {}
        if (p.get("selector") or {}).get("matchLabels") != selector:
            errors.append(f"{where}: the PodDisruptionBudget's selector must be the StatefulSet's {selector}")
        budget_ok = p.get("maxUnavailable") == 1 or (isinstance(p.get("minAvailable"), int) and 0 < p["minAvailable"] < replicas)
        if not budget_ok:
            errors.append(f"{where}: the PodDisruptionBudget must let one replica go at a time (maxUnavailable: 1)")

    # --- the operator example: only the proxy pods get in
    for f, np in find(docs, "NetworkPolicy"):
        npw = f"{f}: NetworkPolicy/{(np.get('metadata') or {}).get('name')}"
        s = np.get("spec") or {}
        if "Ingress" not in (s.get("policyTypes") or []):
            errors.append(f"{npw}: policyTypes must include Ingress")
        peers = [p for rule in s.get("ingress") or [] for p in rule.get("from") or []]
        if len(s.get("ingress") or []) != 1 or len(peers) != 1:
            errors.append(f"{npw}: exactly one ingress rule with one peer (two peers would admit either)")
        for peer in peers:
            ns_labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
            pod_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
            if "kubernetes.io/metadata.name" not in ns_labels or pod_labels.get("tailscale.com/parent-resource-type") != "proxygroup" or not pod_labels.get("tailscale.com/parent-resource"):
                errors.append(
                    f"{npw}: the peer must select the operator's namespace and, in the same entry, "
                    "the ProxyGroup's pods (tailscale.com/parent-resource-type: proxygroup, tailscale.com/parent-resource)"
                )
    if not find(docs, "NetworkPolicy"):
        errors.append(f"{K8S_DIR}/operator-ingress: the example NetworkPolicy for the operator's Ingress")
    return errors


# ---------------------------------------------------------------- the README's policy


def check_readme(state: dict, caps: set[str]) -> list[str]:
    policy, problem = policy_from_readme(state["files"]["README.md"])
    if problem:
        return [problem]
    errors = []
    if "autogroup:admin" not in ((policy.get("tagOwners") or {}).get(HOST_TAG) or []) and not (policy.get("tagOwners") or {}).get(HOST_TAG):
        errors.append(f"README.md: the scale-out policy must declare {HOST_TAG} in tagOwners")
    if HOST_TAG not in ((policy.get("autoApprovers") or {}).get("services") or {}).get(SERVICE, []):
        errors.append(f"README.md: the scale-out policy must auto-approve {HOST_TAG} for {SERVICE} (autoApprovers.services)")
    grants = policy.get("grants") or []
    if not any(SERVICE in (g.get("dst") or []) and "tcp:443" in (g.get("ip") or []) for g in grants):
        errors.append(f"README.md: the scale-out policy needs a network grant to {SERVICE} on tcp:443")
    for cap in caps:
        app = [g for g in grants if cap in (g.get("app") or {})]
        if not app:
            errors.append(f"README.md: the scale-out policy grants no {cap!r}, which the serve configs accept")
        for g in app:
            if not {SERVICE, HOST_TAG} <= set(g.get("dst") or []):
                errors.append(
                    f"README.md: the app grant for {cap} must list both {SERVICE} and {HOST_TAG} in dst "
                    "(grants to a service alone do not reach serve's headers, tailscale/tailscale#19618)"
                )
    return errors


# ---------------------------------------------------------------- loading


def load() -> dict:
    docs = []
    for path in sorted((ROOT / K8S_DIR).rglob("*.yaml")):
        rel = path.relative_to(ROOT).as_posix()
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((rel, doc))
    return {
        "replica_raw": yaml.safe_load((ROOT / REPLICA).read_text(encoding="utf-8")),
        "replica_env": base.parse_env_file((ROOT / REPLICA_ENV).read_text(encoding="utf-8")),
        "root_raw": yaml.safe_load(base.COMPOSE.read_text(encoding="utf-8")),
        "root_serve": json.loads(base.SERVE.read_text(encoding="utf-8")),
        "dockerfile": base.DOCKERFILE.read_text(encoding="utf-8"),
        "k8s_docs": docs,
        "files": {name: (ROOT / name).read_text(encoding="utf-8") for name in ("README.md", ".gitignore", ".dockerignore")},
    }


def all_errors(state: dict) -> list[str]:
    errors = check_replica(state)
    serve, _, _ = replica_serve(state["replica_raw"], state["replica_env"])
    errors += check_kubernetes(state, serve)
    errors += check_readme(state, accepted_caps(state["root_serve"]))
    return errors


# ---------------------------------------------------------------- self-test


def mutations():
    """(what, change, a substring the error must contain)."""

    svc, setk, env = base.service_edits("replica_raw")

    def content(old, new):
        return base.replace_text(lambda s: s["replica_raw"]["configs"]["serve"], "content", old, new)

    def k8s(kind, name=None):
        def get(s):
            return next(
                d for f, d in s["k8s_docs"] if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)
            )

        return get

    def pod(s):
        return k8s("StatefulSet")(s)["spec"]["template"]["spec"]

    def container(name):
        return lambda s: next(c for c in pod(s).get("initContainers", []) + pod(s)["containers"] if c["name"] == name)

    def cenv(name, key, value):
        def change(s):
            entries = container(name)(s)["env"]
            entry = next(e for e in entries if e["name"] == key)
            entry.clear()
            entry.update({"name": key, "value": value})

        return change

    def template(old, new):
        return base.replace_text(lambda s: k8s("ConfigMap", "tailmcp-serve")(s)["data"], "serve.json", old, new)

    def move_to_containers(s):
        p = pod(s)
        c = container("tailmcp")(s)
        p["initContainers"].remove(c)
        c.pop("restartPolicy")
        p["containers"].append(c)

    def mount(name, volume, key, value):
        return lambda s: next(m for m in container(name)(s)["volumeMounts"] if m["name"] == volume).__setitem__(key, value)

    def readme(old, new):
        return base.replace_text(lambda s: s["files"], "README.md", old, new, 1)

    def role_rule(index, key, value):
        return lambda s: k8s("Role")(s)["rules"][index].__setitem__(key, value)

    def split_peer(s):
        rule = k8s("NetworkPolicy")(s)["spec"]["ingress"][0]
        peer = rule["from"][0]
        rule["from"] = [{"namespaceSelector": peer["namespaceSelector"]}, {"podSelector": peer["podSelector"]}]

    service_key = '"mcp.${TAILNET_DNS_NAME:?set TAILNET_DNS_NAME in .env (see .env.example)}:443"'
    return [
        # the compose replica: schema, serve config, sidecar, tailmcp
        ("replica: unknown service key", setk("tailmcp", "read_olny", True), "read_olny"),
        ("replica: misspelt AcceptAppCaps", content('"AcceptAppCaps"', '"AcceptAppCap"'), "AcceptAppCap"),
        ("replica: Web key is the node's name", content(service_key, '"${TS_CERT_DOMAIN}:443"'), "the service's full name"),
        ("replica: Web key written out", content(service_key, '"mcp.tail1234.ts.net:443"'), "from .env"),
        ("replica: another service", content('"svc:mcp"', '"svc:mpc"'), "exactly svc:mcp"),
        ("replica: HTTP, not HTTPS", content('{ "HTTPS": true }', '{ "HTTP": true }'), "HTTPS on 443"),
        ("replica: Proxy to TCP", content('"unix:/run/tailmcp/mcp.sock"', '"http://127.0.0.1:8080"'), "not a unix: socket"),
        ("replica: Proxy to another socket", content('"unix:/run/tailmcp/mcp.sock"', '"unix:/run/tailmcp/other.sock"'), "not the socket"),
        ("replica: other capability", content('"tailmcp.github.io/cap/mcp"', '"example.com/cap/other"'), "the same capability"),
        ("replica: node-level block", lambda s: s["replica_raw"]["configs"]["serve"].__setitem__("content", s["replica_raw"]["configs"]["serve"]["content"].replace('"Services"', '"TCP": {"443": {"HTTPS": true}}, "Services"', 1)), "node-level TCP"),
        ("replica: serve config from a file", lambda s: s["replica_raw"]["configs"]["serve"].pop("content") and s["replica_raw"]["configs"]["serve"].__setitem__("file", "./serve.json"), "inline `content`"),
        ("replica: node's name accepted", env("tailmcp", "TAILMCP_PUBLIC_NAMES", "${TS_HOSTNAME}.${TAILNET_DNS_NAME}"), "TAILMCP_PUBLIC_NAMES"),
        ("replica: no time to withdraw", setk("tailscale", "stop_grace_period", "10s"), "stop_grace_period"),
        ("replica: no advertising", env("tailscale", "TS_EXPERIMENTAL_SERVICE_AUTO_ADVERTISEMENT", "false"), "AUTO_ADVERTISEMENT"),
        ("replica: advertised before tailmcp answers", lambda s: svc("tailscale")(s).pop("depends_on"), "service_healthy"),
        ("replica: another tailscale", setk("tailscale", "image", "tailscale/tailscale:v1.96.0"), "pin"),
        ("replica: one hostname for all", env("tailscale", "TS_HOSTNAME", "tailmcp"), "TS_HOSTNAME"),
        ("replica: literal auth key", env("tailscale", "TS_AUTHKEY", "tskey-auth-abc"), "TS_AUTHKEY"),
        ("replica: state not kept", env("tailscale", "TS_STATE_DIR", "/tmp/state"), "TS_STATE_DIR"),
        ("replica: built on each machine", setk("tailmcp", "build", "../.."), "same pushed image"),
        ("replica: tailmcp on the network", lambda s: svc("tailmcp")(s).pop("network_mode"), "network_mode"),
        ("replica: writable root", setk("tailmcp", "read_only", False), "read_only"),
        ("replica: root user", setk("tailmcp", "user", "0:0"), "non-root"),
        ("replica: capabilities kept", setk("tailmcp", "cap_drop", []), "cap_drop"),
        ("replica: health probes elsewhere", lambda s: svc("tailmcp")(s)["healthcheck"].__setitem__("test", ["CMD", "tailmcp", "health"]), "healthcheck"),
        ("replica: .env sent to the build", lambda s: s["files"].__setitem__(".dockerignore", s["files"][".dockerignore"].replace("**/.env", "")), "**/.env"),
        (".env.example without TAILNET_DNS_NAME", lambda s: s["replica_env"].pop("TAILNET_DNS_NAME"), "TAILNET_DNS_NAME"),
        # Kubernetes: the schemas
        ("k8s: misspelt field", lambda s: container("tailmcp")(s)["securityContext"].__setitem__("readOnlyRootFileSystem", True), "readOnlyRootFileSystem"),
        ("k8s: kind without a schema", lambda s: k8s("PodDisruptionBudget")(s).__setitem__("kind", "PodDisruptionBuget"), "no Kubernetes"),
        ("k8s: wrong type", lambda s: k8s("StatefulSet")(s)["spec"].__setitem__("replicas", "3"), "'3' is not of type"),
        # Kubernetes: the pod
        ("k8s: a Deployment", lambda s: k8s("StatefulSet")(s).__setitem__("kind", "Deployment"), "StatefulSet"),
        ("k8s: tailmcp as root", lambda s: container("tailmcp")(s)["securityContext"].__setitem__("runAsUser", 0), "non-root"),
        ("k8s: writable root", lambda s: container("tailmcp")(s)["securityContext"].__setitem__("readOnlyRootFilesystem", False), "readOnlyRootFilesystem"),
        ("k8s: capabilities kept", lambda s: container("tailmcp")(s)["securityContext"]["capabilities"].__setitem__("drop", []), "drop ALL"),
        ("k8s: privilege escalation", lambda s: container("tailscale")(s)["securityContext"].__setitem__("allowPrivilegeEscalation", True), "allowPrivilegeEscalation"),
        ("k8s: a port on tailmcp", lambda s: container("tailmcp")(s).__setitem__("ports", [{"containerPort": 8080}]), "has ports"),
        ("k8s: hostPath", lambda s: pod(s)["volumes"].append({"name": "host", "hostPath": {"path": "/"}}), "hostPath"),
        ("k8s: tailmcp a plain container", move_to_containers, "sidecar container"),
        ("k8s: no liveness probe", lambda s: container("tailmcp")(s).pop("livenessProbe"), "livenessProbe"),
        ("k8s: readiness probes elsewhere", lambda s: container("tailmcp")(s)["readinessProbe"]["exec"].__setitem__("command", ["tailmcp", "health"]), "readinessProbe must exec"),
        ("k8s: socket volume writable for tailscale", mount("tailscale", "socket", "readOnly", False), "readOnly"),
        ("k8s: tailscale without the socket", lambda s: container("tailscale")(s).__setitem__("volumeMounts", [m for m in container("tailscale")(s)["volumeMounts"] if m["name"] != "socket"]), "socket's volume"),
        ("k8s: components by subPath", mount("tailmcp", "components", "subPath", "greet.wasm"), "subPath"),
        ("k8s: node's name accepted", cenv("tailmcp", "TAILMCP_PUBLIC_NAMES", "$(POD_NAME).$(TAILNET_DNS_NAME)"), "TAILMCP_PUBLIC_NAMES"),
        ("k8s: no audit log", lambda s: container("tailmcp")(s).__setitem__("env", [e for e in container("tailmcp")(s)["env"] if e["name"] != "TAILMCP_AUDIT_LOG"]), "TAILMCP_AUDIT_LOG"),
        ("k8s: no policy", lambda s: container("tailmcp")(s).__setitem__("env", [e for e in container("tailmcp")(s)["env"] if e["name"] != "TAILMCP_POLICY"]), "TAILMCP_POLICY"),
        ("k8s: policy ConfigMap missing", lambda s: s.__setitem__("k8s_docs", [(f, d) for f, d in s["k8s_docs"] if (d.get("metadata") or {}).get("name") != "tailmcp-policy"]), "policy"),
        ("k8s: dev identity", lambda s: container("tailmcp")(s)["env"].append({"name": "TAILMCP_DEV_IDENTITY", "value": "a@b"}), "TAILMCP_DEV_IDENTITY"),
        ("k8s: one state Secret for all", cenv("tailscale", "TS_KUBE_SECRET", "tailscale"), "per pod"),
        ("k8s: literal auth key", cenv("tailscale", "TS_AUTHKEY", "tskey-auth-abc"), "secretKeyRef"),
        ("k8s: no advertising", cenv("tailscale", "TS_EXPERIMENTAL_SERVICE_AUTO_ADVERTISEMENT", "false"), "AUTO_ADVERTISEMENT"),
        ("k8s: readiness on the default socket", lambda s: container("tailscale")(s)["readinessProbe"]["exec"].__setitem__("command", ["tailscale", "status"]), "--socket"),
        ("k8s: token for every container", lambda s: pod(s).__setitem__("automountServiceAccountToken", True), "automountServiceAccountToken"),
        ("k8s: short grace period", lambda s: pod(s).__setitem__("terminationGracePeriodSeconds", 30), "terminationGracePeriodSeconds"),
        ("k8s: namespace not restricted", lambda s: k8s("Namespace")(s)["metadata"].__setitem__("labels", {}), "restricted"),
        # Kubernetes: the serve config
        ("k8s: Web key is the node's name", template("mcp.${TAILNET_DNS_NAME}:443", "${TS_CERT_DOMAIN}:443"), "TAILNET_DNS_NAME"),
        ("k8s: serve config drifted from compose's", template('"/": {', '"/mcp": {'), "differs from"),
        ("k8s: render accepts any name", lambda s: container("render-serve-config")(s)["command"].__setitem__(2, container("render-serve-config")(s)["command"][2].replace('exit 1', 'true')), "accepted TAILNET_DNS_NAME"),
        ("k8s: render writes elsewhere", cenv("render-serve-config", "TS_SERVE_CONFIG", "/tmp/serve.json"), "render-serve-config must write"),
        # Kubernetes: RBAC, PDB, the operator example
        ("k8s: Role without update", role_rule(1, "verbs", ["get", "patch"]), "verbs on secrets"),
        ("k8s: Role for any Secret", lambda s: k8s("Role")(s)["rules"][1].pop("resourceNames"), "exactly the pods' state Secrets"),
        ("k8s: Role lists Secrets", role_rule(0, "verbs", ["create", "list"]), "verbs on secrets"),
        ("k8s: Role names not the replicas'", lambda s: k8s("StatefulSet")(s)["spec"].__setitem__("replicas", 4), "exactly the pods' state Secrets"),
        ("k8s: PDB selects other pods", lambda s: k8s("PodDisruptionBudget")(s)["spec"]["selector"].__setitem__("matchLabels", {"app": "x"}), "selector"),
        ("k8s: NetworkPolicy admits either selector", split_peer, "one peer"),
        # the README's policy
        ("README: app grant to the service only", readme('"dst": ["svc:mcp", "tag:mcp-host"]', '"dst": ["svc:mcp"]'), "both svc:mcp and tag:mcp-host"),
        ("README: no auto-approval", readme('"autoApprovers": { "services": { "svc:mcp": ["tag:mcp-host"] } },', ""), "autoApprovers"),
    ]


# ---------------------------------------------------------------- export


def export(overrides: dict[str, str]) -> dict:
    """The replica's tailmcp settings and its serve config, interpolated with
    deploy/replica/.env.example plus `overrides`, for tests/all/replicas.rs."""
    state = load()
    env = dict(state["replica_env"], **overrides)
    compose = base.interpolate(state["replica_raw"], env, REPLICA)
    errors: list[str] = []
    mcp = compose["services"]["tailmcp"]
    ts = compose["services"]["tailscale"]
    argv, image_env, _ = base.tailmcp_argv(mcp, state["dockerfile"], errors)
    serve, _, serve_errors = replica_serve(state["replica_raw"], env)
    if errors or serve_errors:
        raise Failed("\n".join(errors + serve_errors))
    handlers = []
    for where, h in base.proxies(serve):
        target = str(h.get("Proxy", ""))
        seen = base.resolve(target.removeprefix("unix:"), base.mounts(ts)) if target.startswith("unix:") else None
        handlers.append(
            {
                "where": where,
                "proxy": target,
                # Where the sidecar finds the socket: (volume, path inside it).
                "sidecar_volume": seen[1] if seen else None,
                "sidecar_path": seen[2] if seen else None,
                "accept_app_caps": h.get("AcceptAppCaps") or [],
            }
        )
    return {
        "tailmcp": {
            "argv": argv,
            "environment": dict(image_env, **base.environment(mcp)),
            "mounts": base.mounts(mcp),
        },
        "serve": {"services": sorted((serve.get("Services") or {}).keys()), "handlers": handlers},
    }


def summary(state: dict, rejected: int) -> str:
    kinds = sorted({d["kind"] for _, d in state["k8s_docs"]})
    return (
        f"ok: {REPLICA} (Compose Specification, ipn.ServeConfig), {K8S_DIR} ({len(state['k8s_docs'])} resources: "
        f"{', '.join(kinds)}; Kubernetes {' and '.join(K8S_VERSIONS)} schemas, strict), the README's policy, "
        f"and their agreement; {rejected} broken copies rejected"
    )


def main(argv: list[str]) -> int:
    return base.run(
        argv,
        script="scale_out.py",
        load=load,
        all_errors=all_errors,
        mutations=mutations,
        export=export,
        subject="the scale-out deployments",
        summary=summary,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
