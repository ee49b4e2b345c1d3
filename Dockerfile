# First image of the service; see the README's deployment section.
FROM python:3.11-slim AS build
WORKDIR /build
COPY requirements/app.txt requirements/app.txt
RUN python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/app.txt

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH HOST=0.0.0.0
WORKDIR /srv
COPY --from=build /venv /venv
COPY app/ app/
USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "app", "serve"]
