# One image for every process type; the command picks the role (see Procfile).
# The operator console (apps/console) is built in a first stage with the dev dependencies.
FROM node:20-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY apps/console apps/console
RUN npx tsx apps/console/build.ts

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
COPY --from=console /app/apps/console/dist apps/console/dist
ENV PATH=/app/node_modules/.bin:$PATH
EXPOSE 3000
CMD ["tsx", "apps/ingress/server.ts"]
