ARG PYTHON_IMAGE=python:3.12-slim-bookworm
FROM ${PYTHON_IMAGE}
# Stage 0 builds. The virtual environment is made with the image's own python3 (/usr/local/bin in the python
# images, Debian's /usr/bin on a plain bookworm with python3-venv), so the stage below, from the same image, runs
# it as built.
# uv installs what pip would, from the same index, in a fraction of pip's time (it is used here, not shipped).
# UV_NATIVE_TLS: it trusts the system's CA certificates, as pip does (a proxy's CA added to them included).
ENV UV_NATIVE_TLS=1 UV_NO_CACHE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv --without-pip /opt/provenant && python3 -m venv /opt/uv && /opt/uv/bin/pip install --quiet uv
# The dependencies first, in a layer of their own (compiled to bytecode there): a change to the code alone
# rebuilds only the last steps.
COPY pyproject.toml README.md /src/
COPY src/provenant/__init__.py /src/src/provenant/__init__.py
RUN /opt/uv/bin/uv pip install --quiet --compile-bytecode --python /opt/provenant/bin/python /src \
 && /opt/uv/bin/uv pip uninstall --quiet --python /opt/provenant/bin/python provenant
COPY src /src/src
RUN /opt/uv/bin/uv pip install --quiet --python /opt/provenant/bin/python --no-deps /src \
 && /opt/provenant/bin/python -m compileall -q /opt/provenant/lib/python3*/site-packages/provenant

FROM ${PYTHON_IMAGE}
COPY --from=0 /opt/provenant /opt/provenant
# A user of its own, without a login or a shell; /data is its, and the only place the server writes.
RUN useradd --uid 10001 --no-log-init --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin provenant \
 && mkdir -p /data && chown provenant:provenant /data && chmod 0700 /data
ENV PATH=/opt/provenant/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PROVENANT_DATA_DIR=/data
VOLUME /data
WORKDIR /data
USER provenant:provenant
EXPOSE 4000
# /api/ready: 200 once the database (and Redis, when configured) answers. No curl in slim images: Python asks
# (urlopen raises on a 503: a non-zero exit). Serving on another port? Set PROVENANT_HEALTHCHECK_URL to match.
ENV PROVENANT_HEALTHCHECK_URL=http://127.0.0.1:4000/api/ready
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['PROVENANT_HEALTHCHECK_URL'], timeout=4)"]
# provenant is PID 1: docker stop's SIGTERM reaches uvicorn, which finishes the requests in flight and writes the
# key use it counted before it exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["provenant"]
CMD ["serve", "--host", "0.0.0.0", "--port", "4000"]
