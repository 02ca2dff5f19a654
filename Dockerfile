# BatchNorm Lab: one Streamlit replica. Build and run:
#   docker build -t batchnorm-lab .
#   docker run --rm -p 8501:8501 batchnorm-lab
# Several replicas behind a load balancer with sticky sessions: see docs/DEPLOY.md.
FROM python:3.11-slim

# The code never changes under a running container: no file watcher (its rescans cost CPU).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# A non-root user (with a home: Streamlit may write ~/.streamlit).
RUN useradd --create-home --uid 10001 --user-group app

# The app, owned by root and read-only to the app user; .dockerignore keeps out .venv,
# .git, tests, artifacts and caches.
# .streamlit/config.toml comes along: small upload limit, XSRF protection on, headless.
COPY . .

USER app

EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; o = u.build_opener(u.ProxyHandler({})); sys.exit(0 if o.open('http://127.0.0.1:8501/_stcore/health', timeout=4).read().strip() == b'ok' else 1)"]

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
