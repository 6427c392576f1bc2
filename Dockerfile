# camwatch image: the six programs on Debian 12, built in one stage and
# shipped in another that holds only their runtime libraries.
#
#   docker build -t camwatch .
#   docker compose up -d            # one container per stage, see compose.yaml
#   docker run --env-file .env -v "$PWD/video:/video" -e VIDEO_DIR=/video --shm-size=256m camwatch
#                                   # or all three stages under the supervisor
#
# .dockerignore keeps build/, video/, .env and .git out of the build context.
# tests/e2e/e2e_image.sh builds this file with podman and records clips with
# the image, both ways (docs/running.md).

FROM debian:12-slim AS build
# Every package the Makefile asks pkg-config for: one that is missing makes
# all of that group's flags empty, and the build fails far from the cause.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential pkg-config \
        libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev \
        libavdevice-dev \
        libopencv-core-dev libopencv-imgproc-dev libuv1-dev libcjson-dev libmicrohttpd-dev \
        libmosquitto-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the programs are built from: a change in tests/ or docs/ does
# not invalidate this layer.
COPY Makefile ./
COPY common/ common/
COPY capture/ capture/
COPY detect/ detect/
COPY record/ record/
COPY supervisor/ supervisor/
COPY http/ http/
COPY mqtt/ mqtt/
RUN make -j"$(nproc)" programs

FROM debian:12-slim
# The runtime libraries of the programs (the counterparts in Debian 12 of the
# -dev packages above; libstdc++6 and libc6 come with the base), and tzdata
# so that TZ in .env names clips in local time. tests/e2e/e2e_image.sh runs
# ldd on every program in the image: a library missing here fails it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libavformat59 libavcodec59 libavutil57 libswscale6 libswresample4 libavdevice59 \
        libopencv-imgproc406 libopencv-core406 \
        libuv1 libcjson1 libmicrohttpd12 libmosquitto1 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/camwatch /src/build/camwatch-capture \
     /src/build/camwatch-detect /src/build/camwatch-record /src/build/camwatch-http /src/build/camwatch-mqtt \
     /usr/local/bin/
# Never root. compose.yaml runs every stage as one uid (CAMWATCH_UID, 1000 by
# default): the rings are created with mode 0600, so stages of different
# uids could not open each other's rings. uid and gid are both 1000 (not a
# system account, whose ids would be below 1000), and numeric in USER so that
# a runtime can tell the user is not root without reading the image's
# /etc/passwd (Kubernetes' runAsNonRoot needs that).
RUN groupadd --gid 1000 camwatch \
    && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /var/lib/camwatch \
        --shell /usr/sbin/nologin camwatch \
    && install -d -o camwatch -g camwatch /var/lib/camwatch /video
USER 1000:1000
WORKDIR /var/lib/camwatch
ENV VIDEO_DIR=/video
# The supervisor; compose.yaml replaces it with one stage per container.
CMD ["camwatch"]
