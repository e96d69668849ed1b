# One image for every app process: web (gunicorn, the default command), the RQ worker, the
# periodic-jobs scheduler and one-off management commands (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin statuspage
WORKDIR /app

# Only what the app needs is copied, path by path, so a developer's .venv, var/ (SQLite, dev
# mail) or .git never ends up in the image. A new top-level package must be added here too.
COPY pyproject.toml README.md manage.py ./
COPY statuspage statuspage
COPY components components
COPY incidents incidents
COPY subscribers subscribers
COPY postmortems postmortems
RUN pip install .

COPY templates templates
COPY static static

# Hashed, compressed static files are built into the image (whitenoise serves them). Settings
# refuse to load without a SECRET_KEY when DEBUG is off, so the build uses a throwaway one; the
# real key only ever comes from the runtime environment.
RUN DEBUG=false SECRET_KEY=build-time-only-not-a-secret VAR_DIR=/tmp/build-var \
        python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var \
    && chown statuspage:statuspage /app/var

ENV DEBUG=false \
    VAR_DIR=/app/var
USER statuspage

EXPOSE 8000
CMD ["gunicorn", "statuspage.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
