# One image for the gateway (`run`, the default), the mock endpoint (`mock --host 0.0.0.0`) and every other
# `ecuapass-gateway` command (`dev` excepted: the image carries no Tansu broker).
#
#   docker build -t ecuapass-gateway .
#   docker build --build-arg BASE_IMAGE=ecuapass-base:bookworm -t ecuapass-gateway .    # a base made locally
#
# BASE_IMAGE is any Debian-bookworm-based image with python3 (3.11) and its venv module; the default is pinned by
# digest. Python packages are exactly those of uv.lock, exported with their hashes to
# deploy/containers/requirements.txt, and installed with --require-hashes: from PyPI, or, when
# deploy/containers/wheelhouse/ holds wheels (make test-containers puts them there), from those wheels alone.
ARG BASE_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${BASE_IMAGE} AS build
# Few steps on purpose (the legacy builder copies the whole file system for each one on a vfs engine): the locked
# dependencies first, cached while they do not change, then the gateway.
COPY deploy/containers/ /src/deploy/containers/
RUN set -eu; \
    if ls /src/deploy/containers/wheelhouse/*.whl >/dev/null 2>&1; then \
        set -- --no-index --find-links /src/deploy/containers/wheelhouse; \
    fi; \
    python3 -m venv /opt/venv; \
    /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check "$@" --require-hashes --no-deps \
        -r /src/deploy/containers/requirements.txt
COPY . /src/
# The gateway itself: its wheel from the wheelhouse when there is one, else built here from the sources.
RUN set -eu; \
    wheel=$(ls /src/deploy/containers/wheelhouse/ecuapass_gateway-*.whl 2>/dev/null || true); \
    /opt/venv/bin/pip install --no-cache-dir --no-deps "${wheel:-/src}"; \
    /opt/venv/bin/ecuapass-gateway --help >/dev/null

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="ecuapass-gateway" \
      org.opencontainers.image.description="Kafka-to-Ecuapass gateway for régimen 51 e-documents, and its mock endpoint" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/ecuapass --create-home \
        --shell /usr/sbin/nologin ecuapass
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEWAY_OPS__HOST=0.0.0.0 \
    GATEWAY_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/ecuapass
# 9464: the gateway's /metrics, /healthz, /readyz. 8081: the mock endpoint (`mock --host 0.0.0.0`).
EXPOSE 9464 8081
ENTRYPOINT ["ecuapass-gateway"]
CMD ["run"]
