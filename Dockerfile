# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY scripts ./scripts
COPY test ./test
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npx tsc -p tsconfig.json

# Runtime stage: production dependencies only, non-root.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY prompts ./prompts
# DejaVu Sans for the waterfall and timeline pictures (resvg loads no system fonts).
COPY src/render/fonts ./src/render/fonts
USER node
EXPOSE 3000 9464
ENTRYPOINT ["node", "bin/ftp-doctor.js"]
CMD ["help"]
