# Small runtime image: the bot and its pinned dependencies are installed into a virtual
# environment in a first stage; the second stage copies only that environment, so no wheel
# or build cache is left behind in a layer (and no BuildKit-only feature is needed).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
# .dockerignore leaves out bot/testing (the fakes) and bot/demo, which only development needs.
COPY bot ./bot
# Dependencies only from the hash-pinned lock: pip refuses any artifact whose hash it does not
# list. The project then installs on top with no dependency to fetch, built by the locked
# setuptools. pip and setuptools are only needed to install: removed, they would be a third
# of the copy.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r constraints.txt \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

FROM python:3.11-slim
# The data directory must exist in the image, owned by the bot's user: Docker creates a
# missing volume path as root, and a fresh named volume takes this directory's owner.
RUN useradd --create-home --uid 10001 bot \
    && mkdir -p /home/bot/data \
    && chown bot:bot /home/bot/data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /home/bot
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STATE_URL=sqlite:////home/bot/data/bot.sqlite3 \
    PORT=3000
VOLUME ["/home/bot/data"]
EXPOSE 3000
# Liveness: /healthz answers while the process and its loop are alive, in both modes.
# Readiness (/readyz) is for load balancers and orchestrators; a failed dependency must not
# make Docker restart the container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]
# SIGTERM starts a drain that ends within SHUTDOWN_GRACE (8 s), inside `docker stop`'s 10 s.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
