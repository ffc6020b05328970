# Production image: `townhall serve` on 0.0.0.0:8000 as an unprivileged user.
# compose.yaml runs it twice behind Redis, plus a one-shot `townhall db upgrade`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin townhall

# alembic.ini, migrations/ and programmes/ sit beside the package in the source tree, and
# townhall.migrate finds them relative to the package: import townhall from /app (the
# installed copy still brings every dependency).
ENV PYTHONPATH=/app \
    TOWNHALL_HOST=0.0.0.0 \
    TOWNHALL_PORT=8000

USER townhall
EXPOSE 8000
CMD ["townhall", "serve"]
