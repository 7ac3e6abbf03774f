# syntax=docker/dockerfile:1
# Everything that runs on Python 3.11: the action server, the registry API (and its migrations), the
# review app and the outreach worker; each deployment names its command (deploy/compose.yaml,
# deploy/k8s/). Pinned by requirements/actions.lock, without the test and lint tools of that env.
# No model and no secret is in the image: models come from the models volume, secrets from the
# environment (deploy/README.md).
# Build from the repository root:
#   docker build -f deploy/images/actions.Dockerfile -t tanyavaksin-actions:0.1.0 .
# The lock pins torch's CPU build (2.13.0+cpu), which PyTorch's own index serves; TORCH_INDEX_URL
# points at it (or at a mirror of it).

FROM python:3.11.7-slim-bookworm AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/actions.lock /tmp/requirements/actions.lock
COPY actions/requirements.in /tmp/requirements/actions.in
COPY services/requirements.in /tmp/requirements/services.in
RUN /opt/venv/bin/pip install --extra-index-url "$TORCH_INDEX_URL" \
    -r /tmp/requirements/actions.in -r /tmp/requirements/services.in -c /tmp/requirements/actions.lock

FROM python:3.11.7-slim-bookworm
# One process per core, scaled with replicas (supervisor/environment.py THREAD_VARIABLES). No model
# hub is reached at run time: the sentence model is provisioned into the models volume by `make train`.
# HOME is /tmp: the only writable place when the root filesystem is read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    HF_HUB_OFFLINE=1 \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    TF_INTRA_OP_PARALLELISM_THREADS=1 \
    TF_INTER_OP_PARALLELISM_THREADS=1
RUN groupadd --gid 10001 tanyavaksin \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin tanyavaksin
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY core/ core/
COPY embedding/ embedding/
COPY actions/ actions/
COPY services/ services/
# the review app reads the content helpers and channel limits, the domain (answers) and data/ (inbox)
COPY rasa_project/ rasa_project/
COPY data/ data/
RUN python -m compileall -q core embedding actions services rasa_project && mkdir -p /app/models
USER 10001:10001
EXPOSE 5055 8077 8078
