# The unwind worker (and, with another command, the rack simulator) for docker-compose.
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
ENV NODE_ENV=production
CMD ["node", "--require", "tsx/cjs", "src/worker.ts"]
