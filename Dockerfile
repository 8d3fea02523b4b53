# The service image: one image, two entry points (the API and the workers), run as separate services.
#   API:     node dist/api/main.js     (the default command)
#   workers: node dist/worker/main.js
# test/deploy/deploy.test.ts lints this file and runs the same build steps and entry points natively.

# Node 24, the LTS line the suite runs on: .ci/run runs it on the Node scripts/ensure-node.sh pins, whose
# major test/deploy/deploy.test.ts holds equal to this one (Node 20 is past its end of life).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Compiled JavaScript, a prebuilt workflow bundle (workers start without webpack) and the files the
# code reads at run time: the one build step, scripts/build.ts, that `npm run build` runs anywhere.
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
# The commit the image is built from (no .git in the build context): with the package version it
# names the workers' build id, i.e. their Worker Deployment Version (docs/versioning.md).
#   docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD) .
ARG GIT_COMMIT=""
ENV GIT_COMMIT=${GIT_COMMIT} \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's own unprivileged user (uid 1000).
USER node
EXPOSE 3000
# Liveness of the API; the worker service overrides it (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "dist/scripts/healthcheck.js", "http://127.0.0.1:3000/healthz"]
# SIGTERM reaches node directly (exec form): the API drains, the workers finish their activities.
STOPSIGNAL SIGTERM
CMD ["node", "dist/api/main.js"]
