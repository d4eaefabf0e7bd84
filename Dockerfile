# syntax=docker/dockerfile:1
# hookgate container image.
#   docker build -t hookgate .
#   docker run --rm -p 8080:8080 -v "$PWD/deploy/hookgate.toml:/etc/hookgate/hookgate.toml:ro" hookgate
# See compose.yaml for hookgate with Kafka and Redis, and docs/operations.md.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---- build ------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
# librdkafka is compiled from source by rdkafka-sys: a C toolchain, make, and the
# OpenSSL and zlib headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when Cargo.toml or
# Cargo.lock change, not on every source edit.
# (The benches are declared in Cargo.toml, so cargo wants their files to exist.)
COPY Cargo.toml Cargo.lock ./
COPY benches benches
RUN mkdir -p src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --bin hookgate \
 && rm -rf src

COPY src src
COPY schemas schemas
COPY mappings mappings
# COPY keeps the files' own times, older than the stub build: make cargo see them.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin hookgate \
 && install -m 0755 target/release/hookgate /usr/local/bin/hookgate

# ---- runtime ----------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin hookgate
COPY --from=build /usr/local/bin/hookgate /usr/local/bin/hookgate
# The shipped mappings are built into the binary; these copies are for reference,
# and mapping.schema.json gives editors completion for your own mapping files.
COPY mappings /usr/share/hookgate/mappings
COPY schemas /usr/share/hookgate/schemas
COPY deploy/hookgate.toml /etc/hookgate/hookgate.toml
ENV HOOKGATE_CONFIG=/etc/hookgate/hookgate.toml \
    HOOKGATE_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=4s --start-period=5s --retries=3 \
  CMD ["hookgate", "probe", "--timeout", "3s", "http://127.0.0.1:8080/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["hookgate"]
CMD ["serve"]
