# Production image. Build with `docker build -t hardened-api .`; see the
# README's deployment section for the variables to pass at run time.

# Build stage: the locked dependencies, installed into a virtual environment
# that the final stage copies whole.
FROM python:3.11-slim-bookworm AS build
WORKDIR /build
COPY requirements/app.txt requirements/app.txt
# --require-hashes makes pip reject any file whose hash differs from the lock;
# --no-deps because the lock already lists every package.
RUN python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        --require-hashes --no-deps -r requirements/app.txt

# Final stage: the same slim base (no compilers, no build tools), the virtual
# environment and the app code, run by an unprivileged numeric user.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:$PATH \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/srv/data \
    UPLOAD_TMP_DIR=/srv/data/uploads
WORKDIR /srv
COPY --from=build /venv /venv
# Code stays owned by root, so the service user cannot change it.
COPY app/ app/
# The only folder the service writes: the SQLite file and upload scratch space.
RUN mkdir -p /srv/data \
    && chown 10001:10001 /srv/data \
    && chmod 0700 /srv/data
# Numeric, so Kubernetes' runAsNonRoot can verify it without an /etc/passwd entry.
USER 10001:10001
EXPOSE 8000
# Python's own HTTP client, so the image needs no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "app", "healthcheck"]
# `serve` runs the start-up gate before any worker starts, then uvicorn with
# WEB_CONCURRENCY workers and proxy headers trusted only from FORWARDED_ALLOW_IPS.
CMD ["python", "-m", "app", "serve"]
