# syntax=docker/dockerfile:1
# The Rasa server (Python 3.10, as Rasa 3.6 needs): the NLU components, channels, tracker store and
# live NLG of rasa_project/, pinned by requirements/rasa.lock. No model and no secret is in the image:
# the model and the e5 graph (models/embedding) come from the models volume, the secrets from the
# environment (deploy/README.md).
# Build from the repository root: docker build -f deploy/images/rasa.Dockerfile -t tanyavaksin-rasa:0.1.0 .
# The command comes from deploy/compose.yaml or deploy/k8s/rasa.yaml; the entrypoint adds the API token.

FROM python:3.10.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
# Only what the Rasa server imports (rasa_project/requirements.in), at the versions of the Rasa env's lock.
COPY requirements/rasa.lock /tmp/requirements/rasa.lock
COPY rasa_project/requirements.in /tmp/requirements/rasa_project.in
RUN /opt/venv/bin/pip install -r /tmp/requirements/rasa_project.in -c /tmp/requirements/rasa.lock

FROM python:3.10.13-slim-bookworm
# One process per core, scaled with replicas: BLAS, OpenMP and TensorFlow each start one thread
# (the supervisor sets the same for `make run`, supervisor/environment.py THREAD_VARIABLES).
# HOME is /tmp: the only writable place when the root filesystem is read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
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
COPY rasa_project/ rasa_project/
COPY deploy/images/rasa-entrypoint.sh /usr/local/bin/rasa-entrypoint
# Compiled now: at run time the filesystem is read-only.
RUN python -m compileall -q core embedding rasa_project && mkdir -p /app/models
USER 10001:10001
EXPOSE 5005
ENTRYPOINT ["/usr/local/bin/rasa-entrypoint"]
