# syntax=docker/dockerfile:1
# The auth center and the user service, built from this repository (issue #14):
#   docker build --target auth-center -t authcenter/auth-center .
#   docker build --target user-service -t authcenter/user-service .
# Everything is installed and built here; a container installs nothing at start and
# writes nothing but its data volume. services/user-service/test/deploy.test.ts runs the
# same build steps outside Docker (no engine in CI) and starts both from their deploy dirs.

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
# corepack's pnpm download fails its signature check against some registries; npm works.
RUN npm install -g pnpm@10.34.9
WORKDIR /src
# The lockfile and manifests first: the install layer is cached until they change.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc* ./
COPY packages/verifier/package.json packages/verifier/
COPY packages/client/package.json packages/client/
COPY packages/testkit/package.json packages/testkit/
COPY packages/service-kit/package.json packages/service-kit/
COPY services/auth-center/package.json services/auth-center/
COPY services/user-service/package.json services/user-service/
COPY bench/package.json bench/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm --filter @authcenter/auth-center... --filter @authcenter/user-service... build
# One self-contained directory per service: its dist, its production dependencies only
# (the workspace verifier copied in, not linked), nothing of the sources or dev tools.
RUN pnpm --filter @authcenter/auth-center deploy --prod --legacy /out/auth-center \
 && pnpm --filter @authcenter/user-service deploy --prod --legacy /out/user-service

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: it forwards SIGTERM to node (which then drains: README "Graceful shutdown")
# and reaps zombies; node as PID 1 would ignore a SIGTERM it has no handler for yet.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]

FROM runtime AS auth-center
COPY --from=build --chown=root:root /out/auth-center /app
# The data directory (key files) is the only place it writes; owned by the non-root user.
RUN mkdir -p /data && chown node:node /data
ENV PORT=4000 AUTH_DATA_DIR=/data
USER node
EXPOSE 4000
VOLUME ["/data"]
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

FROM runtime AS user-service
COPY --from=build --chown=root:root /out/user-service /app
RUN mkdir -p /data/avatars && chown -R node:node /data
ENV PORT=4001 AVATAR_DIR=/data/avatars
USER node
EXPOSE 4001
VOLUME ["/data"]
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
