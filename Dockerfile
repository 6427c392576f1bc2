# camwatch image: the four programs on Debian 12, built in one stage and
# shipped in another that holds only their runtime libraries.
#
#   docker build -t camwatch .
#   docker compose up -d            # one container per stage, see compose.yaml
#   docker run --env-file .env -v "$PWD/video:/video" -e VIDEO_DIR=/video --shm-size=256m camwatch
#                                   # or all three stages under the supervisor
#
# A .dockerignore with build/, video/ and .git keeps the build context small.

FROM debian:12-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential pkg-config \
        libavformat-dev libavcodec-dev libavutil-dev libswscale-dev \
        libopencv-core-dev libopencv-imgproc-dev libuv1-dev libcjson-dev \
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
RUN make -j"$(nproc)" programs

FROM debian:12-slim
# The runtime libraries of the programs (their -dev packages' counterparts
# in Debian 12), and tzdata so that TZ in .env names clips in local time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libavformat59 libavcodec59 libavutil57 libswscale6 \
        libopencv-imgproc406 libopencv-core406 \
        libuv1 libcjson1 tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/camwatch /src/build/camwatch-capture \
     /src/build/camwatch-detect /src/build/camwatch-record /usr/local/bin/
# Never root. compose.yaml runs every stage as one uid (CAMWATCH_UID, 1000 by
# default): the rings are created with mode 0600, so stages of different
# uids could not open each other's rings.
RUN useradd --system --uid 1000 --user-group --home-dir /var/lib/camwatch \
        --shell /usr/sbin/nologin camwatch \
    && install -d -o camwatch -g camwatch /var/lib/camwatch /video
USER camwatch
WORKDIR /var/lib/camwatch
ENV VIDEO_DIR=/video
# The supervisor; compose.yaml replaces it with one stage per container.
CMD ["camwatch"]
