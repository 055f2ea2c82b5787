FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY api ./api
COPY web ./web
COPY indexer ./indexer
COPY importer ./importer
COPY worker ./worker
COPY migrations ./migrations
COPY alembic.ini ./
COPY data ./data
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e .
RUN useradd --create-home marquee
USER marquee
EXPOSE 8000
CMD ["uvicorn", "api.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", \
     "--http", "api.serving:GuardedHttpTools", "--timeout-keep-alive", "5", \
     "--h11-max-incomplete-event-size", "16384", "--limit-concurrency", "900", \
     "--timeout-graceful-shutdown", "10", "--no-access-log"]
