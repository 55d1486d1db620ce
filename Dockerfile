# syntax=docker/dockerfile:1
# The Atlas Search image: the three binaries (indexer, search-api, matcher) in one small,
# non-root runtime image. Kubernetes picks the binary with `command`, so one image digest
# serves the StatefulSet, the matcher workers and the index Jobs.
#
# Build from the repository root:  docker build -t atlas-search:0.1.0 .

ARG RUST_VERSION=1.95
ARG CARGO_CHEF_VERSION=0.1.77

# Planner: reduces the workspace to a recipe (manifests, lock file, target layout). The recipe
# changes only when dependencies change, so the cook layer below stays cached across edits
# of our own code.
FROM rust:${RUST_VERSION}-bookworm AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# Builder: compiles the dependencies alone (cached layer), then the workspace.
FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json \
      --bin indexer --bin search-api --bin matcher
COPY . .
RUN cargo build --release --locked --bin indexer --bin search-api --bin matcher \
    && install -d /out \
    && install -m 0555 target/release/indexer target/release/search-api \
         target/release/matcher /out/

# Runtime: glibc, libgcc and CA certificates, no shell, no package manager. The `nonroot`
# variant runs as 65532:65532. Pin the digest in the production overlay or at build time
# (`--build-arg` is not enough there: use `FROM …@sha256:…` in a release pipeline).
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /out/ /usr/local/bin/
USER 65532:65532
WORKDIR /var/lib/atlas
ENV ATLAS_ENV=production \
    ATLAS_LOG_FORMAT=json \
    ATLAS_HTTP_ADDR=0.0.0.0:7700 \
    ATLAS_INDEX_DIR=/var/lib/atlas/index
EXPOSE 7700
# checkov:skip=CKV_DOCKER_2:distroless has no shell or curl for a HEALTHCHECK; Kubernetes probes /health and /health/ready
ENTRYPOINT ["/usr/local/bin/search-api"]
