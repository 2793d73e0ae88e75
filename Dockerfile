# Images for the tox-persona companion (default target "companion") and a local tox-bootstrapd (target "bootstrapd").
#
# Behind a TLS-intercepting proxy, give npm the proxy's CA as a build secret (never baked into a
# layer):  --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt
#
#   docker build -t tox-persona .                                   # companion
#   docker build --target bootstrapd -t tox-persona-bootstrapd .    # bootstrap node
# With podman add "--format docker" so HEALTHCHECK is kept. Where debian:sid-slim cannot be pulled,
# scripts/container-base.sh makes an equivalent local base (debootstrap) and you pass it as DEBIAN_IMAGE.

# Debian unstable (sid): the newest libtoxcore2 in Debian's archive (0.2.22 today; bookworm has 0.2.18 and
# trixie 0.2.20) next to a Node LTS that still gets fixes (nodejs 24). Every package, Node included, comes from
# this one suite's apt, so an image rebuild picks up their security fixes. docs/DEPLOY.md says how to pin.
ARG DEBIAN_IMAGE=debian:sid-slim

# ---- node: Debian's nodejs and npm, for the build stages ---------------------------------------
FROM ${DEBIAN_IMAGE} AS node
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# ---- build: full dependencies, TypeScript → dist/ ---------------------------------------------
FROM node AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/stamp-build.mjs scripts/stamp-build.mjs
COPY data data
COPY src src
RUN npm run build

# ---- prod-deps: production dependencies only ---------------------------------------------------
# --omit=dev keeps optional dependencies: koffi's native binary is the optional package
# @koromix/koffi-linux-x64, so --omit=optional / --no-optional would leave koffi unloadable.
FROM node AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && node -e "const k = require('koffi'); if (typeof k.load !== 'function') process.exit(1); console.log('koffi native module loads on Node ' + process.version)"

# ---- bootstrapd: a tox-bootstrapd from Debian's toxcore-utils (the same toxcore as the companion) ------
FROM ${DEBIAN_IMAGE} AS bootstrapd
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends toxcore-utils tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
RUN groupadd --system --gid 10002 tox-bootstrapd \
 && useradd --system --uid 10002 --gid tox-bootstrapd --home-dir /var/lib/tox-bootstrapd \
      --no-create-home --shell /usr/sbin/nologin tox-bootstrapd \
 && install -d -o tox-bootstrapd -g tox-bootstrapd -m 0700 /var/lib/tox-bootstrapd \
 && install -d -o tox-bootstrapd -g tox-bootstrapd -m 0755 /bootstrap
COPY docker/bootstrapd-entrypoint.sh docker/bootstrapd-health.sh /usr/local/bin/
USER tox-bootstrapd
# keys: the node's identity (keep it, or companions must learn a new key); /bootstrap: the
# published public key, shared read-only with companions.
VOLUME ["/var/lib/tox-bootstrapd", "/bootstrap"]
EXPOSE 33445/udp 33446/tcp
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/bootstrapd-health.sh"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/bootstrapd-entrypoint.sh"]

# ---- companion: the runtime image (default target) ---------------------------------------------
FROM ${DEBIAN_IMAGE} AS companion
ARG DEBIAN_FRONTEND=noninteractive
# nodejs runs the code (npm stays in the build stages); libtoxcore2 is the C library loaded through koffi;
# tini is PID 1 so SIGTERM reaches node and zombies are reaped (the daemon saves profile and table on SIGTERM).
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs libtoxcore2 tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
RUN groupadd --system --gid 10001 toxpersona \
 && useradd --system --uid 10001 --gid toxpersona --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin toxpersona \
 && install -d -o toxpersona -g toxpersona -m 0700 /data
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY data ./data
COPY docker/companion-entrypoint.sh docker/healthcheck.mjs ./docker/
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli/main.js "$@"\n' >/usr/local/bin/tox-persona \
 && chmod 0755 /usr/local/bin/tox-persona /app/docker/companion-entrypoint.sh
# A fixed admin port so the HEALTHCHECK knows where /healthz is (the one path without a token). It stays on
# 127.0.0.1. For probes and scrapes from outside the container, turn on
# the probe listener, health and metrics only: TOX_PERSONA_PROBE_PORT=9091 (0.0.0.0; docs/DEPLOY.md).
ENV NODE_ENV=production \
    TOX_PERSONA_DIR=/data \
    TOX_PERSONA_ADMIN_PORT=9090
USER toxpersona
# Profile, persona key and table. Secrets: back it up like a private key.
VOLUME ["/data"]
# Tox UDP (toxcore takes the first free port from 33445); 9091: the probe listener, once
# TOX_PERSONA_PROBE_PORT=9091 turns it on (off by default). The admin port is loopback-only, not exposed.
EXPOSE 33445/udp 9091/tcp
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/docker/healthcheck.mjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/companion-entrypoint.sh"]
CMD ["run"]
