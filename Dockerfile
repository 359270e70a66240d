# The unwind worker (the default command) and the rack simulator (node dist/src/rack/main.js),
# compiled to JavaScript and run on production dependencies only.

# Compile with the dev dependencies (TypeScript).
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# Production dependencies only (native modules built for this same base).
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Where docker-compose mounts the encryption key file and the rack's state: a new volume takes
# the owner of its mount point, the user the image runs as.
RUN mkdir /keys /data && chown node:node /keys /data
USER node
CMD ["node", "dist/src/worker.js"]
