#!/usr/bin/env python3
"""Static checks of the docker compose deployment (README: "Run it on your
tailnet with docker compose"), run by tests/run.sh:

- docker-compose.yml validates against the Compose Specification's JSON schema
  (as written, and after interpolation with .env.example);
- config/serve.json validates against serve-config.schema.json, the fields of
  tailscale's ipn.ServeConfig and nothing else;
- the two agree on the one way in: tailmcp listens only on a unix socket in a
  volume the sidecar also mounts, every serve Proxy target is that socket,
  tailmcp has no network, no published port, a read-only root, no
  capabilities, no new privileges and a non-root user; the health check, the
  public name, the image's defaults and the build commands all match;
- a self-test breaks a copy of each file in memory, once per check, and
  fails unless the check rejects it.

`check.py export [--env NAME=VALUE ...]` prints, as JSON, the settings
tests/all/compose.rs needs to run the same topology on one machine.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from importlib import resources
from pathlib import Path

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(
        f"tests/deploy/check.py: {e}. Install its requirements first:\n"
        "  target/pyenv/bin/pip install -r tests/deploy/requirements.txt   (tests/run.sh does)"
    )

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
COMPOSE = ROOT / "docker-compose.yml"
SERVE = ROOT / "config" / "serve.json"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"

# The lowest tailscale version with everything the serve config uses
# (unix: proxy targets 1.94, AcceptAppCaps 1.92), raised to 1.96 as the
# reference on tailscale serve advises for the container image.
MIN_TAILSCALE = (1, 96)


class Failed(Exception):
    pass


# ---------------------------------------------------------------- compose files


def parse_env_file(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise Failed(f".env.example: not NAME=VALUE: {line!r}")
        env[name.strip()] = value.strip().strip("'\"")
    return env


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OP = re.compile(r":?[-?+]")


def interpolate_str(value: str, env: dict[str, str], where: str) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d},
    ${VAR:?err}, ${VAR?err}, ${VAR:+alt}, ${VAR+alt}, with nesting in the
    default or alternative (`${A:+${B}.${A}}`), as Compose allows."""
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        if value.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        bare = _NAME.match(value, i + 1)
        if bare:
            out.append(env.get(bare.group(0), ""))
            i = bare.end()
            continue
        if not value.startswith("${", i):
            raise Failed(f"{where}: invalid interpolation in {value!r}")
        # The matching brace, counting nested ${...}.
        depth, j = 1, i + 2
        while j < len(value) and depth:
            if value.startswith("${", j):
                depth, j = depth + 1, j + 2
                continue
            depth -= value[j] == "}"
            j += 1
        if depth:
            raise Failed(f"{where}: unclosed interpolation in {value!r}")
        inner = value[i + 2 : j - 1]
        name_m = _NAME.match(inner)
        if not name_m:
            raise Failed(f"{where}: invalid interpolation in {value!r}")
        name, rest = name_m.group(0), inner[name_m.end() :]
        op_m = _OP.match(rest)
        if rest and not op_m:
            raise Failed(f"{where}: invalid interpolation in {value!r}")
        op = op_m.group(0) if op_m else None
        arg = interpolate_str(rest[op_m.end() :], env, where) if op_m else ""
        present = name in env
        nonempty = present and env[name] != ""
        if op is None:
            out.append(env.get(name, ""))
        elif op == ":-":
            out.append(env[name] if nonempty else arg)
        elif op == "-":
            out.append(env[name] if present else arg)
        elif op == ":?":
            if not nonempty:
                raise Failed(f"{where}: required variable {name} is missing or empty: {arg}")
            out.append(env[name])
        elif op == "?":
            if not present:
                raise Failed(f"{where}: required variable {name} is missing: {arg}")
            out.append(env[name])
        elif op == ":+":
            out.append(arg if nonempty else "")
        else:  # "+"
            out.append(arg if present else "")
        i = j
    return "".join(out)


def interpolate(node, env: dict[str, str], where: str = "docker-compose.yml"):
    if isinstance(node, str):
        return interpolate_str(node, env, where)
    if isinstance(node, list):
        return [interpolate(v, env, f"{where}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, dict):
        return {k: interpolate(v, env, f"{where}.{k}") for k, v in node.items()}
    return node


# Loaded once: the self-test validates many broken copies against them.
_SCHEMAS: dict[str, dict] = {}
_VALIDATORS: dict[str, object] = {}


def compose_schema() -> dict:
    """The Compose Specification's schema, as check-jsonschema vendors it."""
    if "compose" not in _SCHEMAS:
        ref = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
        _SCHEMAS["compose"] = json.loads(ref.read_text(encoding="utf-8"))
    return _SCHEMAS["compose"]


def serve_config_schema() -> dict:
    if "serve" not in _SCHEMAS:
        _SCHEMAS["serve"] = json.loads((HERE / "serve-config.schema.json").read_text(encoding="utf-8"))
    return _SCHEMAS["serve"]


def schema_errors(which: str, doc, name: str) -> list[str]:
    validator = _VALIDATORS.get(which)
    if validator is None:
        schema = compose_schema() if which == "compose" else serve_config_schema()
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
        validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
        _VALIDATORS[which] = validator
    errors = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in e.absolute_path) or "(top)"
        errors.append(f"{name}: {path}: {e.message}")
    return errors


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            name, _, value = str(item).partition("=")
            out[name] = value
        return out
    return {k: "" if v is None else str(v) for k, v in env.items()}


def mounts(service: dict) -> list[dict]:
    """volumes: and tmpfs: as {type, source, target, read_only}."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            out.append(
                {
                    "type": v.get("type", "volume"),
                    "source": v.get("source"),
                    "target": v["target"],
                    "read_only": bool(v.get("read_only", False)),
                }
            )
            continue
        parts = str(v).split(":")
        if len(parts) == 1:
            out.append({"type": "volume", "source": None, "target": parts[0], "read_only": False})
            continue
        source, target = parts[0], parts[1]
        modes = parts[2].split(",") if len(parts) > 2 else []
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        out.append({"type": kind, "source": source, "target": target, "read_only": "ro" in modes})
    tmpfs = service.get("tmpfs") or []
    for t in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
        out.append({"type": "tmpfs", "source": None, "target": t.split(":")[0], "read_only": False})
    return out


def mount_for(path: str, service_mounts: list[dict]) -> dict | None:
    """The mount a container path lives on (the longest matching target)."""
    best = None
    for m in service_mounts:
        target = m["target"].rstrip("/")
        if path == target or path.startswith(target + "/"):
            if best is None or len(target) > len(best["target"].rstrip("/")):
                best = m
    return best


def resolve(path: str, service_mounts: list[dict]) -> tuple[str, str, str] | None:
    """(mount type, source, path inside the mount) for a container path."""
    m = mount_for(path, service_mounts)
    if m is None:
        return None
    rel = path[len(m["target"].rstrip("/")) :].lstrip("/")
    return (m["type"], m["source"], rel)


def healthcheck_argv(service: dict, where: str, errors: list[str]) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test")
    if not isinstance(test, list) or not test or test[0] != "CMD":
        errors.append(
            f"{where}: healthcheck.test must be the exec form [\"CMD\", ...] "
            f"(the image has no shell), got {test!r}"
        )
        return []
    return [str(a) for a in test[1:]]


def flag_value(argv: list[str], flag: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[int, str, str]]:
    """(stage index, INSTRUCTION, arguments) with continuations joined."""
    out, stage, buf = [], -1, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        line, buf = buf + line, ""
        word, _, args = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage += 1
        out.append((stage, word, args.strip()))
    return out


def exec_form(args: str, what: str, errors: list[str]) -> list[str]:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        errors.append(f"Dockerfile: {what} must be JSON exec form, got {args!r}")
        return []
    return value


# ---------------------------------------------------------------- the checks


def check_compose_schema(raw: dict, interpolated: dict) -> list[str]:
    return schema_errors("compose", raw, "docker-compose.yml") + schema_errors(
        "compose", interpolated, "docker-compose.yml (interpolated with .env.example)"
    )


def check_serve_schema(serve: dict) -> list[str]:
    return schema_errors("serve", serve, "config/serve.json")


def proxies(serve: dict) -> list[tuple[str, dict]]:
    """(where, handler) for every HTTP handler, node-level and per service."""
    out = []
    blocks = [("", serve)] + [(f"Services.{k}.", v) for k, v in (serve.get("Services") or {}).items()]
    for prefix, block in blocks:
        for hostport, web in (block.get("Web") or {}).items():
            for mount, handler in ((web or {}).get("Handlers") or {}).items():
                out.append((f"{prefix}Web.{hostport}.Handlers.{mount}", handler))
    return out


def check_topology(
    compose: dict, serve: dict, dockerfile: str, files: dict[str, str], env: dict[str, str]
) -> list[str]:
    """The settings that keep tailscale serve the only way in, and agree."""
    errors: list[str] = []
    services = compose.get("services") or {}
    if set(services) != {"tailscale", "tailmcp"}:
        errors.append(f"docker-compose.yml: services must be tailscale and tailmcp, got {sorted(services)}")
    ts = services.get("tailscale") or {}
    mcp = services.get("tailmcp") or {}

    for name, svc in services.items():
        where = f"docker-compose.yml: services.{name}"
        for key in ("ports", "expose"):
            if svc.get(key):
                errors.append(f"{where}: publishes {key} {svc[key]!r}: the only way in is tailscale serve")
        if svc.get("privileged"):
            errors.append(f"{where}: privileged")
        if svc.get("cap_add"):
            errors.append(f"{where}: cap_add {svc['cap_add']!r}: neither service needs a capability")
        if svc.get("network_mode") == "host":
            errors.append(f"{where}: network_mode host")

    # --- the sidecar
    where = "docker-compose.yml: services.tailscale"
    image = str(ts.get("image", ""))
    m = re.fullmatch(r"tailscale/tailscale:v(\d+)\.(\d+)\.(\d+)", image)
    if not m:
        errors.append(f"{where}: image must be tailscale/tailscale pinned to vX.Y.Z, got {image!r}")
    elif (int(m.group(1)), int(m.group(2))) < MIN_TAILSCALE:
        errors.append(
            f"{where}: {image} is older than {MIN_TAILSCALE[0]}.{MIN_TAILSCALE[1]} "
            "(unix: proxy targets need 1.94, AcceptAppCaps 1.92)"
        )
    ts_env = environment(ts)
    ts_mounts = mounts(ts)
    if ts_env.get("TS_USERSPACE") != "true":
        errors.append(f"{where}: TS_USERSPACE must be \"true\" (no TUN device, no NET_ADMIN)")
    state = ts_env.get("TS_STATE_DIR", "")
    r = resolve(state, ts_mounts) if state else None
    if not r or r[0] != "volume":
        errors.append(f"{where}: TS_STATE_DIR {state!r} must be on a named volume (the node's identity)")
    raw_key = str((compose.get("_raw_tailscale_env") or {}).get("TS_AUTHKEY", "${TS_AUTHKEY}"))
    if "tskey-" in raw_key or "${TS_AUTHKEY" not in raw_key:
        errors.append(f"{where}: TS_AUTHKEY must come from .env (${{TS_AUTHKEY...}}), not be written here")
    serve_path = ts_env.get("TS_SERVE_CONFIG", "")
    r = resolve(serve_path, ts_mounts) if serve_path else None
    if not r or r[0] != "bind" or (Path(r[1]) / r[2]).as_posix().lstrip("./") != "config/serve.json":
        errors.append(f"{where}: TS_SERVE_CONFIG {serve_path!r} must be config/serve.json, bind-mounted")
    healthcheck_argv(ts, where, errors)

    # --- tailmcp
    where = "docker-compose.yml: services.tailmcp"
    mcp_env = environment(mcp)
    mcp_mounts = mounts(mcp)
    if mcp.get("read_only") is not True:
        errors.append(f"{where}: read_only must be true")
    if "ALL" not in [str(c).upper() for c in mcp.get("cap_drop") or []]:
        errors.append(f"{where}: cap_drop must include ALL")
    if "no-new-privileges:true" not in [str(s) for s in mcp.get("security_opt") or []]:
        errors.append(f"{where}: security_opt must include no-new-privileges:true")
    user = str(mcp.get("user", ""))
    if not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", user):
        errors.append(f"{where}: user must be a numeric non-root uid[:gid], got {user!r}")
    if mcp.get("network_mode") != "none":
        errors.append(
            f"{where}: network_mode must be none (a unix socket needs no network), got {mcp.get('network_mode')!r}"
        )
    for key in ("TAILMCP_DEV_IDENTITY", "TAILMCP_ALLOW_FUNNEL"):
        if key in mcp_env:
            errors.append(f"{where}: {key} must not be set on a tailnet")

    argv, image_env, image_health = tailmcp_argv(mcp, dockerfile, errors)
    for flag in ("--dev-identity", "--allow-funnel"):
        if flag in argv:
            errors.append(f"{where}: {flag} must not be used on a tailnet")
    listen = flag_value(argv, "--listen") or mcp_env.get("TAILMCP_LISTEN") or image_env.get("TAILMCP_LISTEN", "")
    socket = listen[len("unix:") :] if listen.startswith("unix:") else None
    if socket is None:
        errors.append(f"{where}: must listen on a unix socket (TAILMCP_LISTEN=unix:/...), got {listen!r}")
    sock = resolve(socket, mcp_mounts) if socket else None
    if socket and (not sock or sock[0] != "volume"):
        errors.append(f"{where}: the socket {socket} must be in a named volume shared with the sidecar")
    elif sock and mount_for(socket, mcp_mounts)["read_only"]:
        errors.append(f"{where}: the socket's volume must be writable for tailmcp")

    health = healthcheck_argv(mcp, where, errors)
    if health:
        if health[:2] != ["tailmcp", "health"]:
            errors.append(f"{where}: healthcheck must run `tailmcp health`, got {health!r}")
        probe = flag_value(health, "--listen") or mcp_env.get("TAILMCP_LISTEN") or image_env.get("TAILMCP_LISTEN")
        if probe != listen:
            errors.append(f"{where}: healthcheck probes {probe!r} but tailmcp listens on {listen!r}")

    cache = flag_value(argv, "--cache-dir") or mcp_env.get("TAILMCP_CACHE_DIR") or image_env.get("TAILMCP_CACHE_DIR")
    cm = mount_for(cache, mcp_mounts) if cache else None
    if not cm or cm["type"] not in ("volume", "tmpfs") or cm["read_only"]:
        errors.append(f"{where}: the cache dir {cache!r} must be a writable volume or tmpfs (the root is read-only)")

    component = flag_value(argv, "--component") or mcp_env.get("TAILMCP_COMPONENT")
    r = resolve(component, mcp_mounts) if component else None
    if not r or r[0] != "bind" or Path(r[1]).as_posix().lstrip("./") != "components":
        errors.append(f"{where}: the component {component!r} must be in ./components, bind-mounted (hot swap)")
    elif not mount_for(component, mcp_mounts)["read_only"]:
        errors.append(f"{where}: ./components must be mounted read-only")

    public = mcp_env.get("TAILMCP_PUBLIC_NAMES", "")
    # The name check is on exactly when .env names the tailnet.
    want = f"{ts_env.get('TS_HOSTNAME', '')}.{env['TAILNET_DNS_NAME']}" if env.get("TAILNET_DNS_NAME") else ""
    if public != want:
        errors.append(f"{where}: TAILMCP_PUBLIC_NAMES is {public!r}, want the node's name {want!r}")

    # --- audited, with a policy, out of the box
    audit = flag_value(argv, "--audit-log") or mcp_env.get("TAILMCP_AUDIT_LOG")
    if not audit:
        errors.append(f"{where}: TAILMCP_AUDIT_LOG must be set (stderr, or a file on a writable volume)")
    elif audit != "stderr":
        am = mount_for(audit, mcp_mounts)
        if not am or am["read_only"]:
            errors.append(f"{where}: the audit log {audit!r} must be stderr or on a writable volume")
    policy = flag_value(argv, "--policy") or mcp_env.get("TAILMCP_POLICY")
    pr = resolve(policy, mcp_mounts) if policy else None
    if not pr or pr[0] != "bind":
        errors.append(f"{where}: the policy {policy!r} must be a file in the repository, bind-mounted")
    else:
        if not mount_for(policy, mcp_mounts)["read_only"]:
            errors.append(f"{where}: the policy's mount must be read-only")
        local = ROOT / Path(pr[1]).as_posix().lstrip("./") / pr[2]
        text = files.get(local.relative_to(ROOT).as_posix())
        if text is None or "[[allow]]" not in text:
            errors.append(f"{where}: the policy {policy!r} is {local} here, which must exist with an [[allow]] rule")

    # --- the sidecar reaches exactly that socket
    if socket:
        shared = [m for m in ts_mounts if m["type"] == "volume" and sock and m["source"] == sock[1]]
        if not shared:
            errors.append(
                f"docker-compose.yml: services.tailscale must mount the socket's volume {sock[1] if sock else '?'!r}"
            )
    handlers = proxies(serve)
    if not handlers:
        errors.append("config/serve.json: no Proxy handler")
    for hwhere, handler in handlers:
        target = handler.get("Proxy")
        if target is None:
            continue
        if not str(target).startswith("unix:"):
            errors.append(
                f"config/serve.json: {hwhere}: Proxy {target!r} is not a unix: socket "
                "(a TCP backend can be reached around serve)"
            )
            continue
        seen = resolve(target[len("unix:") :], ts_mounts)
        if not seen or not sock or seen[0] != "volume" or (seen[1], seen[2]) != (sock[1], sock[2]):
            errors.append(
                f"config/serve.json: {hwhere}: Proxy {target!r} is not the socket tailmcp listens on "
                f"({listen!r} in volume {sock[1] if sock else '?'!r})"
            )
    blocks = [serve] + list((serve.get("Services") or {}).values())
    for block in blocks:
        for port, h in (block.get("TCP") or {}).items():
            if (h or {}).get("TCPForward"):
                errors.append(f"config/serve.json: TCP {port} forwards raw TCP: no identity headers on that path")
    if serve.get("AllowFunnel"):
        errors.append("config/serve.json: AllowFunnel: Funnel requests carry no identity")

    # --- the app capability is the one the README's policy grants
    readme = files.get("README.md", "")
    for _, handler in handlers:
        for cap in handler.get("AcceptAppCaps") or []:
            if f'"{cap}"' not in readme:
                errors.append(f"README.md: no policy grant example for the accepted capability {cap!r}")

    # --- the image and the build
    errors += check_dockerfile(dockerfile, files, listen, image_health)
    return errors


def tailmcp_argv(mcp: dict, dockerfile: str, errors: list[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """What the tailmcp container runs (compose over the image), the image's
    ENV and its HEALTHCHECK command."""
    final = [(w, a) for s, w, a in dockerfile_instructions(dockerfile) if s == max_stage(dockerfile)]
    entrypoint, cmd, env, health = [], [], {}, []
    for word, args in final:
        if word == "ENTRYPOINT":
            entrypoint = exec_form(args, "ENTRYPOINT", errors)
        elif word == "CMD":
            cmd = exec_form(args, "CMD", errors)
        elif word == "ENV":
            for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S+)", args):
                env[m.group(1)] = m.group(2).strip('"')
        elif word == "HEALTHCHECK":
            m = re.search(r"\bCMD\s+(\[.*\])\s*$", args)
            health = exec_form(m.group(1), "HEALTHCHECK CMD", errors) if m else []
    if "entrypoint" in mcp:
        entrypoint = mcp["entrypoint"] if isinstance(mcp["entrypoint"], list) else str(mcp["entrypoint"]).split()
        cmd = []
    if "command" in mcp:
        cmd = mcp["command"] if isinstance(mcp["command"], list) else str(mcp["command"]).split()
    return [str(a) for a in entrypoint + cmd], env, [str(a) for a in health]


def max_stage(dockerfile: str) -> int:
    return max((s for s, _, _ in dockerfile_instructions(dockerfile)), default=0)


def check_dockerfile(dockerfile: str, files: dict[str, str], listen: str, health: list[str]) -> list[str]:
    errors = []
    ins = dockerfile_instructions(dockerfile)
    last = max_stage(dockerfile)
    froms = [a for _, w, a in ins if w == "FROM"]
    if len(froms) < 2:
        errors.append("Dockerfile: must be multi-stage (build, then a small runtime image)")
    rust_version = re.search(r'^rust-version\s*=\s*"([^"]+)"', files.get("Cargo.toml", ""), re.M)
    builder = froms[0] if froms else ""
    if not rust_version or not re.match(rf"rust:{re.escape(rust_version.group(1))}(\.\d+)?-", builder):
        errors.append(
            f"Dockerfile: the build stage {builder!r} must be rust:<rust-version from Cargo.toml "
            f"({rust_version.group(1) if rust_version else '?'})>-..."
        )
    runs = " ".join(a for s, w, a in ins if w == "RUN" and s < last)
    for command in ("rustup target add wasm32-wasip2", "cargo build --release --locked -p tailmcp"):
        if command not in runs:
            errors.append(f"Dockerfile: the build stage must run `{command}`")
    # The commands CI runs (tests/run.sh) are the same.
    run_sh = files.get("tests/run.sh", "")
    for command in ("rustup target add wasm32-wasip2", "cargo build --release --locked"):
        if command not in run_sh:
            errors.append(f"tests/run.sh no longer runs `{command}`, which the Dockerfile's build relies on")
    built = "target/component-build/wasm32-wasip2/component/tailmcp_component.wasm"
    if built not in runs:
        errors.append(f"Dockerfile: must copy out the component host/build.rs builds ({built})")
    build_rs = files.get("host/build.rs", "")
    if '"component-build"' not in build_rs or "wasm32-wasip2/component/tailmcp_component.wasm" not in build_rs:
        errors.append(f"host/build.rs no longer writes {built}: update the Dockerfile")
    users = [a for s, w, a in ins if w == "USER" and s == last]
    if not users or not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", users[-1]):
        errors.append(f"Dockerfile: the runtime stage must end as a numeric non-root USER, got {users!r}")
    entry = [a for s, w, a in ins if w == "ENTRYPOINT" and s == last]
    if entry != ['["tailmcp"]']:
        errors.append(f"Dockerfile: ENTRYPOINT must be [\"tailmcp\"], got {entry!r}")
    if health[:2] != ["tailmcp", "health"]:
        errors.append(f"Dockerfile: HEALTHCHECK must run `tailmcp health` in exec form, got {health!r}")
    image_env = {}
    for s, w, a in ins:
        if w == "ENV" and s == last:
            for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", a):
                image_env[m.group(1)] = m.group(2)
    if image_env.get("TAILMCP_LISTEN") != listen:
        errors.append(
            f"Dockerfile: ENV TAILMCP_LISTEN {image_env.get('TAILMCP_LISTEN')!r} differs from compose's {listen!r}"
        )
    ignore = files.get(".dockerignore", "").split()
    for entry in ("target", ".git", ".env", "**/node_modules"):
        if entry not in ignore:
            errors.append(f".dockerignore: must exclude {entry}")
    gitignore = files.get(".gitignore", "").split()
    if "/.env" not in gitignore and ".env" not in gitignore:
        errors.append(".gitignore: must ignore .env (it holds the auth key)")
    return errors


# ---------------------------------------------------------------- loading


def load() -> dict:
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    env = parse_env_file(ENV_EXAMPLE.read_text(encoding="utf-8"))
    files = {
        name: (ROOT / name).read_text(encoding="utf-8")
        for name in ("README.md", "Cargo.toml", "tests/run.sh", "host/build.rs", ".dockerignore", ".gitignore", "config/policy.toml")
    }
    return {
        "raw": raw,
        "env": env,
        "serve": json.loads(SERVE.read_text(encoding="utf-8")),
        "dockerfile": DOCKERFILE.read_text(encoding="utf-8"),
        "files": files,
    }


def effective(raw: dict, env: dict[str, str]) -> dict:
    """The compose file as docker compose would run it with `env` as .env."""
    compose = interpolate(raw, env)
    ts = (raw.get("services") or {}).get("tailscale") or {}
    compose["_raw_tailscale_env"] = environment(ts)
    return compose


def all_errors(state: dict) -> list[str]:
    errors = []
    try:
        compose = effective(state["raw"], state["env"])
    except Failed as e:
        return [str(e)]
    # `docker compose up` with nothing but TS_AUTHKEY in .env.
    try:
        minimal = effective(state["raw"], {"TS_AUTHKEY": state["env"].get("TS_AUTHKEY", "")})
        names = environment((minimal.get("services") or {}).get("tailmcp") or {}).get("TAILMCP_PUBLIC_NAMES", "")
        if names:
            errors.append(f".env with only TS_AUTHKEY: TAILMCP_PUBLIC_NAMES is {names!r}, want none (no name check)")
    except Failed as e:
        errors.append(f".env with only TS_AUTHKEY: {e}")
    plain = {k: v for k, v in compose.items() if not k.startswith("_")}
    errors += check_compose_schema(state["raw"], plain)
    errors += check_serve_schema(state["serve"])
    errors += check_topology(compose, state["serve"], state["dockerfile"], state["files"], state["env"])
    return errors


# ---------------------------------------------------------------- self-test


def service_edits(compose: str):
    """Change builders for the services of the compose file at
    `state[compose]` (shared with tests/deploy/scale_out.py): `svc(name)`
    finds a service, `setk` sets one of its keys, `env` one of its
    environment variables."""

    def svc(name):
        return lambda s: s[compose]["services"][name]

    def setk(name, key, value):
        return lambda s: svc(name)(s).__setitem__(key, value)

    def env(name, key, value):
        return lambda s: svc(name)(s)["environment"].__setitem__(key, value)

    return svc, setk, env


def replace_text(holder, key: str, old: str, new: str, count: int = -1):
    """A change that replaces `old` (which must be there) with `new` in the
    text at `holder(state)[key]`."""

    def change(s):
        where = holder(s)
        assert old in where[key], old
        where[key] = where[key].replace(old, new, count)

    return change


def mutations():
    """(what, change, a substring the error must contain). Each change breaks
    one thing in a copy of the real files; the checks must notice."""

    svc, setk, env = service_edits("raw")

    def handler(s):
        return s["serve"]["Web"]["${TS_CERT_DOMAIN}:443"]["Handlers"]["/"]

    def sethandler(key, value):
        return lambda s: handler(s).__setitem__(key, value)

    def dockerfile(old, new):
        return replace_text(lambda s: s, "dockerfile", old, new)

    return [
        # the Compose Specification
        ("compose: unknown service key", setk("tailmcp", "read_olny", True), "read_olny"),
        ("compose: cap_drop not a list", setk("tailmcp", "cap_drop", "ALL"), "is not of type 'array'"),
        ("compose: unknown healthcheck key", lambda s: svc("tailmcp")(s)["healthcheck"].__setitem__("intervall", "10s"), "intervall"),
        # the ServeConfig fields
        ("serve: misspelt AcceptAppCaps", lambda s: handler(s).__setitem__("AcceptAppCap", handler(s).pop("AcceptAppCaps")), "AcceptAppCap"),
        ("serve: Proxy and Text", sethandler("Text", "hi"), "config/serve.json"),
        ("serve: bad capability name", sethandler("AcceptAppCaps", ["mcp"]), "AcceptAppCaps"),
        ("serve: HTTPS not a bool", lambda s: s["serve"]["TCP"]["443"].__setitem__("HTTPS", "yes"), "TCP/443"),
        ("serve: Foreground", lambda s: s["serve"].__setitem__("Foreground", {}), "Foreground"),
        ("serve: port out of range", lambda s: s["serve"]["TCP"].__setitem__("70000", {"HTTPS": True}), "70000"),
        ("serve: unknown top-level field", lambda s: s["serve"].__setitem__("web", {}), "web"),
        # the one way in
        ("Proxy to TCP", sethandler("Proxy", "http://127.0.0.1:8080"), "not a unix: socket"),
        ("Proxy to another socket", sethandler("Proxy", "unix:/run/tailmcp/other.sock"), "not the socket tailmcp listens on"),
        ("TCPForward", lambda s: s["serve"]["TCP"].__setitem__("8443", {"TCPForward": "127.0.0.1:8080"}), "forwards raw TCP"),
        ("Funnel", lambda s: s["serve"].__setitem__("AllowFunnel", {"${TS_CERT_DOMAIN}:443": True}), "AllowFunnel"),
        ("tailmcp on TCP", env("tailmcp", "TAILMCP_LISTEN", "0.0.0.0:8080"), "must listen on a unix socket"),
        ("tailmcp on loopback", env("tailmcp", "TAILMCP_LISTEN", "127.0.0.1:8080"), "must listen on a unix socket"),
        ("published port", setk("tailmcp", "ports", ["8080:8080"]), "publishes ports"),
        ("sidecar publishes a port", setk("tailscale", "ports", ["443:443"]), "publishes ports"),
        ("tailmcp in the sidecar's network", setk("tailmcp", "network_mode", "service:tailscale"), "network_mode must be none"),
        ("writable root", setk("tailmcp", "read_only", False), "read_only"),
        ("capabilities kept", setk("tailmcp", "cap_drop", []), "cap_drop must include ALL"),
        ("capability added", setk("tailmcp", "cap_add", ["NET_BIND_SERVICE"]), "cap_add"),
        ("new privileges", setk("tailmcp", "security_opt", []), "no-new-privileges"),
        ("root user", setk("tailmcp", "user", "0:0"), "non-root"),
        ("socket volume not shared", lambda s: svc("tailscale")(s).__setitem__("volumes", [v for v in svc("tailscale")(s)["volumes"] if "tailmcp-socket" not in v]), "must mount the socket's volume"),
        ("socket on the read-only root", lambda s: svc("tailmcp")(s).__setitem__("volumes", [v for v in svc("tailmcp")(s)["volumes"] if "tailmcp-socket" not in v]), "named volume shared"),
        ("cache on the read-only root", env("tailmcp", "TAILMCP_CACHE_DIR", "/cache"), "cache dir"),
        ("component outside ./components", env("tailmcp", "TAILMCP_COMPONENT", "/usr/share/tailmcp/greet.wasm"), "./components"),
        ("health probes another address", lambda s: svc("tailmcp")(s)["healthcheck"].__setitem__("test", ["CMD", "tailmcp", "health", "--listen", "unix:/tmp/x.sock"]), "healthcheck probes"),
        ("health via a shell", lambda s: svc("tailmcp")(s)["healthcheck"].__setitem__("test", ["CMD-SHELL", "tailmcp health"]), "exec form"),
        ("wrong public name", env("tailmcp", "TAILMCP_PUBLIC_NAMES", "tailmcp.example.com"), "TAILMCP_PUBLIC_NAMES"),
        ("dev identity", env("tailmcp", "TAILMCP_DEV_IDENTITY", "alice@example.com"), "TAILMCP_DEV_IDENTITY"),
        ("old tailscale", setk("tailscale", "image", "tailscale/tailscale:v1.92.0"), "older than 1.96"),
        ("unpinned tailscale", setk("tailscale", "image", "tailscale/tailscale:latest"), "pinned"),
        ("literal auth key", env("tailscale", "TS_AUTHKEY", "tskey-auth-abc"), "TS_AUTHKEY"),
        ("kernel networking", env("tailscale", "TS_USERSPACE", "false"), "TS_USERSPACE"),
        ("state not persisted", env("tailscale", "TS_STATE_DIR", "/tmp/state"), "TS_STATE_DIR"),
        ("tailnet name required", env("tailmcp", "TAILMCP_PUBLIC_NAMES", "tailmcp.${TAILNET_DNS_NAME:?set it}"), "only TS_AUTHKEY"),
        ("name check on without a tailnet name", env("tailmcp", "TAILMCP_PUBLIC_NAMES", "${TS_HOSTNAME:-tailmcp}.${TAILNET_DNS_NAME}"), "only TS_AUTHKEY"),
        ("no audit log", lambda s: svc("tailmcp")(s)["environment"].pop("TAILMCP_AUDIT_LOG"), "TAILMCP_AUDIT_LOG"),
        ("audit log on the read-only root", env("tailmcp", "TAILMCP_AUDIT_LOG", "/var/log/audit.jsonl"), "audit log"),
        ("no policy", lambda s: svc("tailmcp")(s)["environment"].pop("TAILMCP_POLICY"), "policy"),
        ("policy not in the repository", env("tailmcp", "TAILMCP_POLICY", "/config/nope.toml"), "must exist"),
        ("policy mount writable", lambda s: svc("tailmcp")(s).__setitem__("volumes", [v.replace("./config:/config:ro", "./config:/config") for v in svc("tailmcp")(s)["volumes"]]), "read-only"),
        ("cap not in the README", lambda s: s["files"].__setitem__("README.md", ""), "README.md"),
        # the image and the build
        ("Dockerfile: root user", dockerfile("USER 65532:65532", "USER root"), "non-root USER"),
        ("Dockerfile: other toolchain", dockerfile("FROM rust:1.95-", "FROM rust:1.80-"), "rust-version"),
        ("Dockerfile: no --locked", dockerfile("cargo build --release --locked -p tailmcp", "cargo build --release -p tailmcp"), "--locked"),
        ("Dockerfile: image listens elsewhere", dockerfile("TAILMCP_LISTEN=unix:/run/tailmcp/mcp.sock", "TAILMCP_LISTEN=0.0.0.0:8080"), "TAILMCP_LISTEN"),
        ("Dockerfile: shell-form healthcheck", dockerfile('CMD ["tailmcp", "health"]', "CMD tailmcp health"), "HEALTHCHECK"),
        (".dockerignore sends .env", lambda s: s["files"].__setitem__(".dockerignore", "target\n.git\n"), ".env"),
    ]


def self_test(state: dict, mutations, all_errors) -> list[str]:
    """Apply each of `mutations()` to a copy of `state`: every broken copy
    must make `all_errors` report the error it names (shared with
    tests/deploy/scale_out.py)."""
    failures = []
    for what, change, expect in mutations():
        broken = copy.deepcopy(state)
        try:
            change(broken)
        except (KeyError, AssertionError, TypeError, StopIteration, ValueError, IndexError) as e:
            failures.append(f"self-test {what!r}: could not apply the change ({e!r}): update the self-test")
            continue
        errors = all_errors(broken)
        if not any(expect in e for e in errors):
            failures.append(
                f"self-test {what!r}: the checks accepted a broken copy "
                f"(wanted an error mentioning {expect!r}, got {errors or 'none'})"
            )
    return failures


# ---------------------------------------------------------------- export


def export(overrides: dict[str, str]) -> dict:
    """The topology, interpolated with .env.example plus `overrides`, for
    tests/all/compose.rs."""
    state = load()
    env = dict(state["env"], **overrides)
    compose = effective(state["raw"], env)
    errors: list[str] = []
    mcp = compose["services"]["tailmcp"]
    ts = compose["services"]["tailscale"]
    argv, image_env, image_health = tailmcp_argv(mcp, state["dockerfile"], errors)
    health = healthcheck_argv(mcp, "tailmcp", errors)
    if errors:
        raise Failed("\n".join(errors))
    cert_domain = f"{environment(ts).get('TS_HOSTNAME', '')}.{env.get('TAILNET_DNS_NAME', '')}"
    serve = json.loads(SERVE.read_text(encoding="utf-8").replace("${TS_CERT_DOMAIN}", cert_domain))
    return {
        "tailmcp": {
            "argv": argv,
            # The image's ENV, then compose's environment over it.
            "environment": dict(image_env, **environment(mcp)),
            "mounts": mounts(mcp),
            "healthcheck": health,
            "network_mode": mcp.get("network_mode"),
            "user": mcp.get("user"),
            "read_only": mcp.get("read_only", False),
            "cap_drop": mcp.get("cap_drop") or [],
            "security_opt": mcp.get("security_opt") or [],
        },
        "tailscale": {"environment": environment(ts), "mounts": mounts(ts)},
        "serve": {
            "cert_domain": cert_domain,
            "handlers": [
                {"where": where, "proxy": h.get("Proxy"), "accept_app_caps": h.get("AcceptAppCaps") or []}
                for where, h in proxies(serve)
            ],
        },
    }


def run(argv: list[str], *, script: str, load, all_errors, mutations, export, subject: str, summary) -> int:
    """The command line both deployment checkers share: `export [--env
    NAME=VALUE ...]` prints the topology for the Rust tests; no argument runs
    the checks and the self-test and prints `summary(state, rejected)`."""
    if argv[:1] == ["export"]:
        overrides, args = {}, argv[1:]
        while args:
            if args[0] != "--env" or len(args) < 2 or "=" not in args[1]:
                print(f"usage: {script} export [--env NAME=VALUE ...], got {args!r}", file=sys.stderr)
                return 2
            name, _, value = args[1].partition("=")
            overrides[name] = value
            args = args[2:]
        try:
            print(json.dumps(export(overrides), indent=2))
        except Failed as e:
            print(f"{script} export: {e}", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(f"usage: {script} [export [--env NAME=VALUE ...]]", file=sys.stderr)
        return 2

    state = load()
    errors = all_errors(state)
    if errors:
        print(f"FAILED: {subject} do not hold together:", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    failures = self_test(state, mutations, all_errors)
    if failures:
        print("FAILED: a check accepted a broken deployment:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print(summary(state, len(mutations())))
    return 0


def main(argv: list[str]) -> int:
    return run(
        argv,
        script="check.py",
        load=load,
        all_errors=all_errors,
        mutations=mutations,
        export=export,
        subject="the compose deployment's files",
        summary=lambda _state, rejected: (
            "ok: docker-compose.yml (Compose Specification), config/serve.json (ipn.ServeConfig), "
            f"Dockerfile and their agreement; {rejected} broken copies rejected"
        ),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
