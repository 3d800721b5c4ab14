# cmvcds: the web app, REST API and CDS Hooks services on port 8000 (docs/deploy.md).
# Runs as an unprivileged user; the registry schema is migrated by `cmvcds serve` at start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 cmvcds \
 && useradd --system --uid 10001 --gid cmvcds --home-dir /var/lib/cmvcds --create-home \
            --shell /usr/sbin/nologin cmvcds \
 && install -d -o cmvcds -g cmvcds -m 0750 /var/lib/cmvcds/checkpoints

WORKDIR /opt/cmvcds
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install . && rm -rf /opt/cmvcds/src

USER cmvcds
WORKDIR /var/lib/cmvcds
EXPOSE 8000

# Readiness: the database answers, the schema is at the migration head (GET /readyz).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=8).status == 200 else 1)"]

CMD ["cmvcds", "serve", "--host", "0.0.0.0"]
