FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY statuspage statuspage
COPY components components
COPY incidents incidents
COPY subscribers subscribers
COPY postmortems postmortems
RUN pip install .

COPY . .
RUN DEBUG=false SECRET_KEY=build-only-not-secret VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 statuspage \
    && mkdir -p /app/var && chown statuspage /app/var
USER statuspage

ENV DEBUG=false VAR_DIR=/app/var
EXPOSE 8000
CMD ["gunicorn", "statuspage.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
