# One image for every process type; the command picks the role (see Procfile).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
ENV PATH=/app/node_modules/.bin:$PATH
EXPOSE 3000
CMD ["tsx", "apps/ingress/server.ts"]
