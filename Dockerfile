# mirror in a container: Node 24 on Debian with the Debian nginx package.
#   docker build -t mirror .
#   docker run --rm -v "$PWD:/work" -w /work mirror validate
FROM node:24-bookworm-slim AS build
WORKDIR /opt/mirror
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light dnsmasq-base openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/mirror
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /opt/mirror/dist ./dist
COPY templates ./templates
COPY nginx ./nginx
RUN chmod +x dist/cli.js && ln -s /opt/mirror/dist/cli.js /usr/local/bin/mirror
ENTRYPOINT ["mirror"]
CMD ["--help"]
