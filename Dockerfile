# The service image: the API + workers with a prebuilt workflow bundle (no webpack at start-up).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npx tsx scripts/build-workflow-bundle.ts && npx tsc -p . --outDir dist \
 && cp -r api/signup-assets dist/api/ && cp -r sandbox/js-sdk-assets dist/sandbox/

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY --from=build /app/dist ./dist
CMD ["node", "dist/scripts/start.js"]
