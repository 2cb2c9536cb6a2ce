# satellite: one JavaScript file on a distroless Node.js base.
#   docker build -t ghcr.io/satellite-nats/satellite:0.1.0 .
#
# Why distroless Node (not Deno, not node:slim): the bundle needs nothing but a JavaScript runtime;
# distroless has no shell or package manager (less to patch, less to exploit), ships CA
# certificates, runs as the non-root user 65532 and is about half the size of node:slim. The
# Deno images are larger (the deno binary alone is ~100 MB); with the same V8 flags Deno needs about
# as much memory and starts slower (bench/RESULTS.md), though the bundle runs the same on both.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --ignore-scripts
COPY build.mjs build-options.mjs tsconfig.json ./
COPY handlers handlers
COPY runtime runtime
RUN node build.mjs

FROM gcr.io/distroless/nodejs24-debian12:nonroot
COPY --from=build /src/dist/satellite.mjs /app/satellite.mjs
USER 65532:65532
# --lite-mode: V8 without its optimizing compilers. About 12 MB less resident memory for about 30 ms
# of start and some CPU (bench/RESULTS.md); remove it from the entrypoint to trade the other way.
# --expose-gc: gc() for runtime/memory.ts, which gives back the heap a burst of work grew.
ENTRYPOINT ["/nodejs/bin/node", "--lite-mode", "--expose-gc", "/app/satellite.mjs"]
CMD ["help"]
