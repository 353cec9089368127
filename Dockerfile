# Production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# WeasyPrint needs Pango/HarfBuzz; the CJK font lets PDFs render Chinese.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-noto-cjk gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --no-input \
 && DEBUG=0 SECRET_KEY=build-only python manage.py compilemessages --ignore=.venv \
 && useradd --create-home --uid 1000 inflow \
 && mkdir -p /app/var/media /app/var/reports && chown -R inflow /app/var
USER inflow

EXPOSE 8000
# gunicorn.conf.py: sync workers, 2 x cores + 1 (WEB_CONCURRENCY to change), access log on stdout.
CMD ["gunicorn", "config.wsgi:application", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
