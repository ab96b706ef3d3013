FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install "setuptools>=68"
COPY . .
RUN pip install . \
 && useradd --system --home /app memberhub \
 && mkdir -p /app/var \
 && SECRET_KEY=build ALLOWED_HOSTS=localhost FIELD_ENCRYPTION_KEYS=build \
    python manage.py collectstatic --noinput \
 && chown -R memberhub /app/var

USER memberhub
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
