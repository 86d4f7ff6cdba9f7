# The kreconcile image: the manager (`kreconcile run`), the node agent (`kreconcile agent`) and
# every other subcommand. Build it from the repository root:
#   docker build -t kreconcile:0.1.0 .
# config/default refers to this name and tag.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconcile ./reconcile
COPY controllers ./controllers
COPY crds ./crds
RUN pip install . && rm -rf /src

# The manager runs as this non-root user (the Deployment also sets runAsNonRoot); the node
# agent's DaemonSet overrides it with uid 0, which cgroup writes need.
USER 65532:65532
WORKDIR /
ENTRYPOINT ["kreconcile"]
CMD ["run"]
