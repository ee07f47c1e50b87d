# syntax=docker/dockerfile:1
# Build stage: compile the release binary (the browser app is embedded in it).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY migrations ./migrations
COPY bench ./bench
COPY src ./src
COPY static ./static
RUN cargo build --release --locked --bin chattconnect

# Runtime stage: a small image with the binary and CA certificates only.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin chattconnect \
 && mkdir -p /data && chown chattconnect /data
COPY --from=build /src/target/release/chattconnect /usr/local/bin/chattconnect
USER chattconnect
WORKDIR /data
ENV BIND=0.0.0.0:3000 \
    DATA_DIR=/data \
    DATABASE_URL=sqlite:///data/chattconnect.db?mode=rwc \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/readyz || exit 1
ENTRYPOINT ["chattconnect"]
CMD ["serve"]
