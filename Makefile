# camwatch build. `make` builds everything into build/, `make test` installs
# what is missing (scripts/install-deps), builds and runs every test,
# `make run` starts camwatch (against the test camera when RTSP_URL is unset),
# `make bench` measures it, `make fuzz` runs the libFuzzer targets of
# tests/fuzz for FUZZ_SECONDS each (default 60).

CC       ?= cc
CXX      ?= c++
BUILD    ?= build
PREFIX   ?= /usr/local
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN     := -Wall -Wextra -Werror
SAN      ?=
# make SAN=address,undefined builds everything with those sanitizers. Every
# report is fatal: undefined behaviour stops the program as a memory error
# does, so no test can pass over one (tests/run sets the runtime options).
ifneq ($(SAN),)
SANFLAGS := -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

AV_PKGS  := libavformat libavcodec libavutil libswscale libswresample libavdevice
AV_CFLAGS := $(shell pkg-config --cflags $(AV_PKGS) 2>/dev/null)
AV_LIBS   := $(shell pkg-config --libs $(AV_PKGS) 2>/dev/null)
# opencv4.pc comes with libopencv-dev only; the -core/-imgproc packages we
# install put their headers here.
CV_CFLAGS := $(or $(shell pkg-config --cflags opencv4 2>/dev/null),-I/usr/include/opencv4)
CV_LIBS   := -lopencv_imgproc -lopencv_core
UV_CFLAGS := $(shell pkg-config --cflags libuv 2>/dev/null)
UV_LIBS   := $(shell pkg-config --libs libuv 2>/dev/null)
GST_CFLAGS := $(shell pkg-config --cflags gstreamer-rtsp-server-1.0 gstreamer-rtsp-1.0 2>/dev/null)
GST_LIBS   := $(shell pkg-config --libs gstreamer-rtsp-server-1.0 gstreamer-rtsp-1.0 2>/dev/null)
CJSON_LIBS := -lcjson

ALL_CFLAGS   := -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -Icommon -MMD -MP
ALL_CXXFLAGS := -std=gnu++17 $(WARN) $(CXXFLAGS) $(SANFLAGS) -Icommon -MMD -MP
LDFLAGS      += $(SANFLAGS)

# Two libraries: libcamwatch-common (common/*.c) every program links, and
# libcamwatch-av (common/av/*.c), the libav helpers, which only the programs
# that link libav link: the supervisor and detect need no libav at all.
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
COMMON_LIB := $(BUILD)/libcamwatch-common.a
AV_SRC     := $(wildcard common/av/*.c)
AV_OBJ     := $(AV_SRC:%.c=$(BUILD)/%.o)
AV_LIB     := $(BUILD)/libcamwatch-av.a

CAPTURE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard capture/*.c))
DETECT_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard detect/*.c)) \
               $(patsubst %.cpp,$(BUILD)/%.o,$(wildcard detect/*.cpp))
RECORD_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard record/*.c))
SUPER_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard supervisor/*.c))
HTTP_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(wildcard http/*.c))
MHD_CFLAGS  := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS    := $(or $(shell pkg-config --libs libmicrohttpd 2>/dev/null),-lmicrohttpd)
MQTT_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(wildcard mqtt/*.c))
MOSQ_LIBS   := $(or $(shell pkg-config --libs libmosquitto 2>/dev/null),-lmosquitto)

UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_CXX_SRC := $(wildcard tests/unit/*.cpp)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%) \
             $(UNIT_CXX_SRC:tests/unit/%.cpp=$(BUILD)/tests/%)
# The detector proper: what its unit tests and bench/detect_bench link.
DETECTOR_OBJ := $(BUILD)/detect/motion.o $(BUILD)/detect/filters.o

PROGRAMS := $(BUILD)/camwatch $(BUILD)/camwatch-capture $(BUILD)/camwatch-detect \
            $(BUILD)/camwatch-record $(BUILD)/camwatch-http $(BUILD)/camwatch-mqtt
FAKECAM  := $(BUILD)/camwatch-fakecam

.PHONY: all programs fakecam tests test soak bench run install clean format check-format deps \
        fuzzers fuzz-build fuzz
all: programs fakecam tests

programs: $(PROGRAMS)
fakecam: $(FAKECAM)
tests: $(UNIT_BINS)

# Only the code that links libav sees its headers and the libav helpers'.
$(BUILD)/capture/%.o $(BUILD)/record/%.o $(BUILD)/common/av/%.o: OBJ_CFLAGS := -Icommon/av $(AV_CFLAGS)
# camwatch-http encodes JPEGs with libavcodec and serves with libmicrohttpd.
$(BUILD)/http/%.o: OBJ_CFLAGS := -Icommon/av $(AV_CFLAGS) $(MHD_CFLAGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(OBJ_CFLAGS) $(UV_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $(CV_CFLAGS) -c $< -o $@

# Made anew each time: `ar r` would keep the object of a file since renamed.
$(COMMON_LIB): $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(AV_LIB): $(AV_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# libcamwatch-av before libcamwatch-common: its objects call into common.
$(BUILD)/camwatch-capture: $(CAPTURE_OBJ) $(AV_LIB) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(AV_LIBS) -lm -lpthread

$(BUILD)/camwatch-detect: $(DETECT_OBJ) $(COMMON_LIB)
	$(CXX) $(LDFLAGS) -o $@ $^ $(CV_LIBS) -lm -lpthread

$(BUILD)/camwatch-record: $(RECORD_OBJ) $(AV_LIB) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(AV_LIBS) $(CJSON_LIBS) -lm -lpthread

# Off the data path: a reader of the rings and the clip folder.
$(BUILD)/camwatch-http: $(HTTP_OBJ) $(AV_LIB) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(MHD_LIBS) $(AV_LIBS) $(CJSON_LIBS) -lm -lpthread

# Off the data path too: a reader of the events ring and the clip folder.
$(BUILD)/camwatch-mqtt: $(MQTT_OBJ) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(MOSQ_LIBS) $(CJSON_LIBS) -lm -lpthread

$(BUILD)/camwatch: $(SUPER_OBJ) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(UV_LIBS) $(CJSON_LIBS) -lm -lpthread

$(FAKECAM): tests/fakecam/fakecam.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) $(CFLAGS) $(GST_CFLAGS) $< -o $@ $(GST_LIBS)

# TEST_LIBS: the libraries a test needs beyond the common library (set per test below).
$(BUILD)/tests/%: tests/unit/%.c $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(AV_CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(COMMON_LIB) \
	    $(TEST_LIBS) -lm -lpthread

# Unit tests of a stage's pure parts link that part's object.
$(BUILD)/tests/policy: $(BUILD)/supervisor/policy.o
$(BUILD)/tests/stop: $(BUILD)/supervisor/stop.o
$(BUILD)/tests/outage: $(BUILD)/supervisor/outage.o
$(BUILD)/tests/clippolicy: $(BUILD)/record/clippolicy.o
$(BUILD)/tests/diskfull: $(BUILD)/record/diskfull.o
$(BUILD)/tests/preroll: $(BUILD)/record/preroll.o
$(BUILD)/tests/boxscale: $(BUILD)/record/boxscale.o
$(BUILD)/tests/boxtrack: $(BUILD)/record/boxtrack.o
$(BUILD)/tests/annotate: $(BUILD)/record/annotate.o $(BUILD)/record/boxscale.o
$(BUILD)/tests/annotate: TEST_LIBS = $(AV_LIBS)
$(BUILD)/tests/videoenc: $(BUILD)/record/videoenc.o $(BUILD)/record/annotate.o \
    $(BUILD)/record/boxtrack.o $(BUILD)/record/boxscale.o $(BUILD)/record/avquiet.o \
    $(BUILD)/common/av/avpixfmt.o
$(BUILD)/tests/videoenc: TEST_LIBS = $(AV_LIBS)
$(BUILD)/tests/tsmap: $(BUILD)/record/tsmap.o
$(BUILD)/tests/tsmap: TEST_LIBS = $(AV_LIBS)
$(BUILD)/tests/audioenc: $(BUILD)/record/audioenc.o $(BUILD)/record/avquiet.o
$(BUILD)/tests/audioenc: TEST_LIBS = $(AV_LIBS)
$(BUILD)/tests/mp4scan: $(BUILD)/record/mp4scan.o
$(BUILD)/tests/mp4scan: TEST_LIBS = $(AV_LIBS)
$(BUILD)/tests/sidecar: $(BUILD)/record/sidecar.o $(BUILD)/record/fsutil.o
$(BUILD)/tests/sidecar: TEST_LIBS = $(CJSON_LIBS)
$(BUILD)/tests/damage: $(BUILD)/capture/damage.o
$(BUILD)/tests/transport: $(BUILD)/capture/transport.o
$(BUILD)/tests/role: $(BUILD)/capture/role.o
$(BUILD)/tests/lowres: $(BUILD)/capture/lowres.o
$(BUILD)/tests/framegaps: $(BUILD)/capture/framegaps.o
$(BUILD)/tests/backlog: $(BUILD)/capture/backlog.o
$(BUILD)/tests/backlog: TEST_LIBS = $(AV_LIBS)
$(BUILD)/tests/confirm: $(BUILD)/detect/confirm.o
$(BUILD)/tests/http_clips: $(BUILD)/http/clips.o
$(BUILD)/tests/http_clips: TEST_LIBS = $(CJSON_LIBS)
$(BUILD)/tests/mqtt_tracker: $(BUILD)/mqtt/tracker.o $(BUILD)/mqtt/outbox.o

# The detector's lighting test: compiled as C, linked by the C++ driver with
# the detector (C++ over OpenCV).
$(BUILD)/tests/motion_light: tests/unit/motion_light.c $(DETECTOR_OBJ) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@.o
	$(CXX) $(LDFLAGS) -o $@ $@.o $(DETECTOR_OBJ) $(COMMON_LIB) $(CV_LIBS) -lm -lpthread

# The libav helpers' test links them and libav.
$(BUILD)/tests/avhelpers: tests/unit/avhelpers.c $(AV_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icommon/av $(AV_CFLAGS) $(LDFLAGS) -o $@ $< $(AV_LIB) $(COMMON_LIB) \
		$(AV_LIBS) -lm -lpthread

# The motion detector is C++ over OpenCV: its test is compiled as C, then
# linked by the C++ driver (libstdc++, and the sanitizers' C++ runtime).
$(BUILD)/tests/motion: tests/unit/motion.c $(DETECTOR_OBJ) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@.o
	$(CXX) $(LDFLAGS) -o $@ $@.o $(DETECTOR_OBJ) $(COMMON_LIB) $(CV_LIBS) -lm -lpthread

# The detector's filters, checked against OpenCV itself: a C++ test.
$(BUILD)/tests/filters: tests/unit/filters.cpp $(BUILD)/detect/filters.o
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $(CV_CFLAGS) -Idetect $(LDFLAGS) -o $@ $< $(BUILD)/detect/filters.o \
	    $(CV_LIBS) -lm -lpthread
$(BUILD)/tests/retention: $(BUILD)/record/retention.o

# libFuzzer targets (tests/fuzz/<target>.c, seeds in tests/fuzz/corpus/<target>/).
# They need clang: `make fuzz-build` builds them, and the common code they
# call, with clang, libFuzzer, ASan and UBSan into $(FUZZ_BUILD)/fuzz/.
# `make fuzz` runs each for FUZZ_SECONDS; `make test` runs each for a few
# seconds (tests/e2e/e2e_fuzz.sh).
FUZZ_SRC     := $(wildcard tests/fuzz/*.c)
FUZZ_BINS    := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_BUILD   ?= $(BUILD)-fuzz
FUZZ_SECONDS ?= 60
fuzzers: $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -Irecord -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(filter %.o,$^) \
	    $(COMMON_LIB) $(FUZZ_LIBS) -lm -lpthread
$(BUILD)/fuzz/mp4scan: $(BUILD)/record/mp4scan.o
$(BUILD)/fuzz/sidecar: $(BUILD)/record/sidecar.o $(BUILD)/record/fsutil.o
$(BUILD)/fuzz/sidecar: FUZZ_LIBS = $(CJSON_LIBS)
$(BUILD)/fuzz/http_clips: $(BUILD)/http/clips.o
$(BUILD)/fuzz/http_clips: FUZZ_LIBS = $(CJSON_LIBS)

fuzz-build:
	$(MAKE) CC=clang CXX=clang++ CFLAGS="-O1 -g -fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
	    SAN=address,undefined BUILD=$(FUZZ_BUILD) fuzzers

fuzz:
	scripts/install-deps --check --test || scripts/install-deps --test
	$(MAKE) fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

# Installs what is missing, builds, runs every test; ends with "N passed, N failed".
# Every test runs once, against the build made with ASan, UBSan and
# LeakSanitizer ($(BUILD)-san; libav, OpenCV and libuv are not instrumented,
# so only camwatch's own code pays). The plain build is what users install
# and what the few tests that cannot use a sanitized one run against
# (tests/run's PLAIN_TESTS: valgrind, the fuzz targets' own clang build, the
# container image, and chaos, which judges memory growth); each line of the
# summary names the build.
test:
	scripts/install-deps --check --test || scripts/install-deps --test
	$(MAKE) all
	$(MAKE) SAN=address,undefined BUILD=$(BUILD)-san all
	$(MAKE) fuzz-build
	SAN_BUILD=$(BUILD)-san tests/run

# An hour of chaos (tests/chaos/chaos.sh); CHAOS_SECONDS and CHAOS_SEED change it.
CHAOS_SECONDS ?= 3600
soak:
	scripts/install-deps --check --test || scripts/install-deps --test
	$(MAKE) all
	tests/chaos/chaos.sh $(CHAOS_SECONDS)

bench:
	scripts/install-deps --check --bench || scripts/install-deps --bench
	$(MAKE) all
	bench/run

run:
	scripts/install-deps --check || scripts/install-deps
	$(MAKE) programs fakecam
	scripts/run-demo

install: programs
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf $(BUILD) $(BUILD)-san $(FUZZ_BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
