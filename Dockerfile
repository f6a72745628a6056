# syntax=docker/dockerfile:1
# The standalone MCP server (`node server`) in a slim image. See README.md ("Docker") and docker-compose.yml.

# --- build: all dependencies, TypeScript compiled to dist/ ---
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --ignore-scripts
COPY plugin ./plugin
COPY server ./server
# The product only (plugin and server), then TypeBox's runtime and the server's own code bundled (scripts/bundle-*.mjs).
COPY scripts/bundle-typebox.mjs scripts/bundle-server.mjs ./scripts/
RUN npm run build:product

# --- runtime: production dependencies and the compiled code only ---
FROM node:22-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/plugin ./dist/plugin
COPY --from=build /app/dist/server ./dist/server
COPY server/package.json ./server/package.json
# Inside the container the server must listen on every interface; it then requires MCP_TOKEN or MCP_TOKEN_FILE.
ENV HOST=0.0.0.0 PORT=3100
EXPOSE 3100
USER node
CMD ["node", "server"]
