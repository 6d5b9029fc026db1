# syntax=docker/dockerfile:1
# tailmcp in a container: the host binary with the greet component built in,
# in a small image that runs as a non-root user. docker-compose.yml builds it
# and puts it behind a tailscale serve sidecar (README: "Run it on your tailnet
# with docker compose").

# ---- build: the README's commands, in the toolchain Cargo.toml asks for (rust-version)
FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# host/build.rs builds component/ for wasm32-wasip2 and embeds it in the binary.
# The cache mounts keep downloaded crates and target/ between builds; what the
# image needs is copied out of them to /out.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p tailmcp \
    && install -D -m 0755 target/release/tailmcp /out/tailmcp \
    && install -D -m 0644 target/component-build/wasm32-wasip2/component/tailmcp_component.wasm /out/greet.wasm \
    && install -d -m 0755 /out/empty

# ---- runtime: glibc and libgcc, no shell, no package manager
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="tailmcp" \
      org.opencontainers.image.description="Identity-aware MCP server for Tailscale networks" \
      org.opencontainers.image.source="https://github.com/tailmcp/tailmcp" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/tailmcp /usr/local/bin/tailmcp
# The component the binary embeds, as a file to start from:
# `docker compose cp tailmcp:/usr/share/tailmcp/greet.wasm .`
COPY --from=build /out/greet.wasm /usr/share/tailmcp/greet.wasm
# The only places tailmcp writes: the socket's directory and the compiled-component
# cache. Owned by the runtime user, so fresh named volumes mounted here are too
# (Docker copies a mount point's owner into an empty named volume).
COPY --from=build --chown=65532:65532 /out/empty/ /run/tailmcp/
COPY --from=build --chown=65532:65532 /out/empty/ /var/cache/tailmcp/
USER 65532:65532
# A unix socket, not a TCP port: nothing but tailscale serve, sharing the
# socket's volume, can reach the server (README: security model).
ENV TAILMCP_LISTEN=unix:/run/tailmcp/mcp.sock \
    TAILMCP_CACHE_DIR=/var/cache/tailmcp
VOLUME ["/run/tailmcp", "/var/cache/tailmcp"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["tailmcp", "health"]
ENTRYPOINT ["tailmcp"]
CMD ["serve"]
