# One Dockerfile for the four app images, one target each:
#
#   docker build --target api       -t bazaar-api .        (port 5003)
#   docker build --target admin-api -t bazaar-admin-api .  (port 5002)
#   docker build --target web       -t bazaar-web .        (port 8083; web-2 sets PORT=8084)
#   docker build --target admin     -t bazaar-admin .      (port 8081; admin-2 sets PORT=8082)
#
# compose.yaml builds them with `docker compose up --build`. Each image holds one
# `bun build --compile` executable (Bun and the app's code and dependencies in one
# file) on distroless/cc: glibc and libstdc++, no shell, no package manager.

# The base images are build arguments so that a machine with no registry can build
# this same file on stand-ins (tests/docker/standin/: the compose pass of
# `bun run test`). The defaults are what a user's `docker compose up --build` pulls.
# BUN_IMAGE is the Bun the tests run on (tests/compose/dockerfile.test.ts keeps the
# tag in step): the compose pass builds these images with that very Bun and runs its
# system tests against them; the compiled pass runs the same scripts/build.ts output.
ARG BUN_IMAGE=oven/bun:1.4.5
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# ---- build: install from the lockfile, compile every app ----------------------
FROM ${BUN_IMAGE} AS build
WORKDIR /src

# Manifests first: the dependency layer is reused until one of them changes. Every
# workspace's (package.json lists them), so the lockfile is checked against all of them.
COPY package.json bun.lock bunfig.toml ./
COPY lib/package.json lib/
COPY api/package.json api/
COPY admin-api/package.json admin-api/
COPY web/package.json web/
COPY admin/package.json admin/
COPY bridge/package.json bridge/
COPY local/package.json local/
COPY client/package.json client/
COPY bench/package.json bench/
COPY testutil/package.json testutil/
# Exactly what bun.lock says (fails if it is out of date); no devDependencies:
# the bundler needs only what the apps import.
RUN bun install --frozen-lockfile --production

COPY tsconfig.json ./
COPY scripts/build.ts scripts/
COPY lib/src lib/src
COPY api/src api/src
COPY admin-api/src admin-api/src
COPY web/src web/src
COPY admin/src admin/src
# Same script and flags as CI (--compile --minify --sourcemap --bytecode); it also
# starts each executable once to prove it runs. Writes dist/<app>.
RUN bun scripts/build.ts api admin-api web admin
# Mount points of compose's secret volumes (the `secrets` service writes them as the
# image's user): a new volume takes its owner from the folder it is mounted on.
RUN mkdir -p /out/secrets/store /out/secrets/web /out/secrets/admin /out/secrets/api /out/secrets/admin-api /out/secrets/db /out/secrets/cache /out/secrets/proxy /out/secrets/redis

# ---- runtime: what every app image shares -------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
# distroless's "nonroot" user; numeric, so a runtime can verify it is not root.
COPY --from=build --chown=65532:65532 /out/secrets /secrets
USER 65532:65532
ENTRYPOINT ["/app/server"]
# The executable probes its own /healthz on 127.0.0.1:$PORT and exits 0 or 1
# (lib/src/runtime/bun.ts): no curl or shell needed. Short intervals: compose
# starts each tier when the one below it is healthy.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 CMD ["/app/server", "--healthcheck"]

# ---- one target per app: its executable and its port ----------------------------
FROM runtime AS api
COPY --from=build /src/dist/api /app/server
EXPOSE 5003

FROM runtime AS admin-api
COPY --from=build /src/dist/admin-api /app/server
EXPOSE 5002

FROM runtime AS web
COPY --from=build /src/dist/web /app/server
EXPOSE 8083

FROM runtime AS admin
COPY --from=build /src/dist/admin /app/server
EXPOSE 8081
