# syntax=docker/dockerfile:1
#
# shadowtap image: one binary, the role is chosen by the command
# (serve | tap | worker | ui | migrate | demo). Build with BuildKit (the default in current Docker):
#   docker build -t shadowtap .
# Migrations, templates and static assets are embedded at compile time, so the runtime stage
# needs only the binary.

# ---- build ----------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder

# rdkafka-sys compiles librdkafka from source (configure + make); libz-sys links the system zlib
# (zlib1g-dev is already in the bookworm image).
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config python3 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static

# The registry, git checkouts and target directory live in BuildKit cache mounts, so rebuilds
# reuse downloaded crates and compiled dependencies. The target directory is not part of the
# image layer, so the binary is copied out of it in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin shadowtap \
 && cp target/release/shadowtap /usr/local/bin/shadowtap

# ---- runtime --------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 shadowtap \
 && useradd --system --uid 10001 --gid shadowtap --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin shadowtap

COPY --from=builder /usr/local/bin/shadowtap /usr/local/bin/shadowtap

# Inside a container the listeners must bind all interfaces to be reachable (the built-in
# defaults are 127.0.0.1). Like any SHADOWTAP_* variable these override tap.listen / ui.listen
# from a config file; --listen / --ui-listen flags still take precedence over them.
ENV SHADOWTAP_TAP__LISTEN=0.0.0.0:8080 \
    SHADOWTAP_UI__LISTEN=0.0.0.0:8081

USER 10001:10001

# 8080: tap (OpenAI-compatible proxy), 8081: review UI.
EXPOSE 8080 8081

ENTRYPOINT ["shadowtap"]
CMD ["serve"]
