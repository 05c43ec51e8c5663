# One image for every process type; the command picks the role (see Procfile and compose).
# Build stage: all dependencies, type-check-free esbuild bundle into dist/.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime stage: production dependencies only, the build, the migrations; no tsx, no sources.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
# The Procfile's V8 heap caps (bench/RESULTS.md, "Lean processes"), for every process; the web
# command repeats its young generation (command-line flags win, so a changed NODE_OPTIONS keeps it).
ENV NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=8"
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/apps/console/dist ./apps/console/dist
COPY drizzle/migrations ./drizzle/migrations
COPY bin ./bin
# GDPR exports are written here (GDPR_EXPORT_DIR); the process owns nothing else.
RUN mkdir -p /app/exports && chown node:node /app/exports
USER node
EXPOSE 3000
# Liveness of the web process (workers have no port: compose overrides the check for them).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-semi-space-size=8", "dist/web.js"]
