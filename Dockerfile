# The FlowBot image: one image for the api, the worker and the one-shot migrate step of docker-compose.yml
# (each picks its entry point with its command). Node 24 on Debian: the Temporal SDK's native module needs glibc.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json && npx vite build web && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# DATA_DIR (./.data) holds no secret when JWT_SECRET and ENCRYPTION_KEY are set, as they must be in production;
# its uploads/ folder is where docker-compose.yml mounts the volume the api and worker replicas share (owned by
# node here, so the new volume is too).
RUN mkdir -p .data/uploads && chown -R node:node .data
USER node
EXPOSE 3000
CMD ["node", "dist/api/server.js"]
