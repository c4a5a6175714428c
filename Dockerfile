# Small runtime image: wheels built in a first stage, only the runtime installed in the second.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/* && rm -rf /wheels
USER bot
WORKDIR /home/bot
ENV PYTHONUNBUFFERED=1 \
    STATE_URL=sqlite:////home/bot/data/bot.sqlite3 \
    PORT=3000
VOLUME ["/home/bot/data"]
EXPOSE 3000
# /healthz is served in both modes (with /metrics); in HTTP mode it also answers Slack.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
