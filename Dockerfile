# syntax=docker/dockerfile:1
# The standalone MCP server (`node server`) in a slim image. See README.md ("Docker") and docker-compose.yml.

# --- build: all dependencies, the package built and packed as npm would publish it ---
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json README.md LICENSE ./
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --ignore-scripts
COPY plugin ./plugin
COPY server ./server
# The product only (plugin and server), then TypeBox's runtime and the server's own code bundled (scripts/*.mjs).
COPY scripts/clean-dist.mjs scripts/bundle-typebox.mjs scripts/bundle-server.mjs ./scripts/
RUN npm run build:product && npm pack --ignore-scripts && mv fastify-mcp-host-*.tgz fastify-mcp-host.tgz

# --- runtime: the packed package installed the way users install it; npm adds its peer, fastify ---
# (the same steps `npm run test:package` runs: an install of the tarball, then its server serves a call)
FROM node:22-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/fastify-mcp-host.tgz /tmp/
RUN npm install --omit=dev --no-audit --no-fund /tmp/fastify-mcp-host.tgz && rm /tmp/fastify-mcp-host.tgz && npm cache clean --force
# Inside the container the server must listen on every interface; it then requires MCP_TOKEN or MCP_TOKEN_FILE.
ENV HOST=0.0.0.0 PORT=3100
EXPOSE 3100
USER node
CMD ["node", "node_modules/fastify-mcp-host/server"]
