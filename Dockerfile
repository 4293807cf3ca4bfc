# The executor image: one static binary in an otherwise empty image.
#
# Stages:
#   build  compiles a static (glibc, +crt-static) release binary on the official Rust image and
#          lays out the final image's files under /out: /out/executor, and an empty /out/tmp with
#          mode 1777, because the default --output-dir is /tmp/executor and scratch has no /tmp.
#   final  FROM scratch, with /out copied in as it is, running as the numeric non-root user
#          65532:65532 (no /etc/passwd needed).
#
# With a registry at hand (Docker, Podman or buildah):
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# Without one, as in our CI, which cannot pull the Rust image: .ci/run compiles the same static
# binary on the host, lays out <dir>/out/executor and <dir>/out/tmp, and passes
#   buildah bud --build-context build=<dir> ...
# A named build context takes the place of the stage of the same name (buildah >= 1.28 and
# BuildKit's --build-context both do this), so `COPY --from=build /out/` reads <dir>/out and the
# build stage is skipped: its image is never pulled.
#
# Static glibc: since glibc 2.34 (bookworm has 2.36) the files and dns NSS modules are part of
# libc itself, so the static binary resolves names with no /etc/nsswitch.conf and no dlopen; the
# runtime provides /etc/hosts and /etc/resolv.conf. TLS roots are compiled in (rustls), so the
# image needs no CA bundle; --argocd-ca-file adds a cluster CA.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN cargo build --release --locked --target x86_64-unknown-linux-gnu --bin executor \
    && mkdir -p /out \
    && install -m 0755 target/x86_64-unknown-linux-gnu/release/executor /out/executor \
    && install -d -m 1777 /out/tmp

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="executor" \
      org.opencontainers.image.description="Deploys, validates and tears down a Kubernetes platform through Argo CD, with an exact exit-code contract." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/platform/executor" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/ /
USER 65532:65532
ENTRYPOINT ["/executor"]
