/*
 * record/mp4scan.c on torn files. A real fragmented MP4 is written with
 * libavformat as record writes its clips (frag_keyframe+empty_moov+
 * default_base_moof, a fragment at least every second, every fragment
 * flushed at once), its fragment ends noted from the writer's side; then the
 * file is cut at every offset from its full size down to 0, and the scan
 * must say, for each cut, exactly how much of it a crash left playable.
 */
#define _GNU_SOURCE
#include "check.h"

#include "../../record/mp4scan.h"

#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <sys/stat.h>
#include <unistd.h>

#define FRAMES   32
#define GOP      5
#define MAX_ENDS (FRAMES + 4)

/* The file as written, and where its parts end (from the writer's side). */
typedef struct Written {
    uint8_t *data;
    int64_t size;
    int64_t header_end;         /* end of ftyp + moov */
    int64_t frag_end[MAX_ENDS]; /* end of each moof+mdat pair */
    int fragments;
} Written;

static char dir[64];
static Written w_; /* the test clip */

static void check_av(int ret, const char *what)
{
    if (ret < 0) {
        fprintf(stderr, "%s: %s\n", what, av_err2str(ret));
        exit(1);
    }
}

/* A moving grey square on black: real pictures for a real encoder. */
static void draw(AVFrame *f, int n)
{
    check_av(av_frame_make_writable(f), "av_frame_make_writable");
    for (int p = 0; p < 3; p++) {
        int h = p ? f->height / 2 : f->height;
        for (int y = 0; y < h; y++)
            memset(f->data[p] + (size_t)y * f->linesize[p], p ? 128 : 16,
                   p ? f->width / 2 : f->width);
    }
    for (int y = 8; y < 24; y++)
        memset(f->data[0] + (size_t)y * f->linesize[0] + n, 200, 16);
    f->pts = n;
}

/* Write the test clip to `path`, noting where header and fragments end. */
static void write_clip(const char *path, Written *w)
{
    AVFormatContext *oc = NULL;
    AVCodecContext *enc = NULL;
    AVDictionary *opts = NULL;
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);

    memset(w, 0, sizeof(*w));
    CHECK(frame && pkt && codec);
    enc = avcodec_alloc_context3(codec);
    CHECK(enc);
    enc->width = 64;
    enc->height = 48;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational){1, 10};
    enc->framerate = (AVRational){10, 1};
    enc->gop_size = GOP;
    enc->max_b_frames = 0;
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    check_av(avcodec_open2(enc, codec, NULL), "avcodec_open2");
    frame->format = enc->pix_fmt;
    frame->width = enc->width;
    frame->height = enc->height;
    check_av(av_frame_get_buffer(frame, 0), "av_frame_get_buffer");

    check_av(avformat_alloc_output_context2(&oc, NULL, "mp4", path), "alloc output");
    AVStream *st = avformat_new_stream(oc, NULL);
    CHECK(st);
    check_av(avcodec_parameters_from_context(st->codecpar, enc), "parameters");
    st->time_base = enc->time_base;
    av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
    av_dict_set(&opts, "frag_duration", "1000000", 0);
    oc->flush_packets = 1;
    check_av(avio_open(&oc->pb, path, AVIO_FLAG_WRITE), "avio_open");
    check_av(avformat_write_header(oc, &opts), "write header");
    CHECK(av_dict_count(opts) == 0); /* every option taken */
    w->header_end = avio_tell(oc->pb);
    int64_t last = w->header_end;

    for (int n = 0; n <= FRAMES; n++) {
        if (n < FRAMES) {
            draw(frame, n);
            check_av(avcodec_send_frame(enc, frame), "send frame");
        } else {
            check_av(avcodec_send_frame(enc, NULL), "flush encoder");
        }
        while (avcodec_receive_packet(enc, pkt) == 0) {
            av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
            pkt->stream_index = 0;
            check_av(av_write_frame(oc, pkt), "write frame");
            /* A packet that starts a fragment puts the one before it in the file. */
            if (avio_tell(oc->pb) != last) {
                CHECK(w->fragments < MAX_ENDS);
                last = w->frag_end[w->fragments++] = avio_tell(oc->pb);
            }
        }
    }
    check_av(av_write_frame(oc, NULL), "flush fragment"); /* the last fragment, before mfra */
    CHECK(avio_tell(oc->pb) != last);
    w->frag_end[w->fragments++] = avio_tell(oc->pb);
    check_av(av_write_trailer(oc), "write trailer");
    check_av(avio_closep(&oc->pb), "close");

    avformat_free_context(oc);
    avcodec_free_context(&enc);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    av_dict_free(&opts);

    /* Read it back whole. */
    int fd = open(path, O_RDONLY);
    struct stat sb;
    CHECK(fd >= 0 && fstat(fd, &sb) == 0);
    w->size = sb.st_size;
    w->data = malloc((size_t)w->size);
    CHECK(w->data && pread(fd, w->data, (size_t)w->size, 0) == w->size);
    close(fd);
}

/* The writer's notes agree with what is in the file: ftyp first, and a moof
 * at the start of every fragment; the trailer (mfra) after the last. */
static void check_layout(const Written *w)
{
    CHECK(!memcmp(w->data + 4, "ftyp", 4));
    CHECK(w->fragments >= FRAMES / GOP);
    int64_t start = w->header_end;
    for (int i = 0; i < w->fragments; i++) {
        CHECK(w->frag_end[i] > start);
        CHECK(!memcmp(w->data + start + 4, "moof", 4));
        start = w->frag_end[i];
    }
    CHECK(w->size > start);
    CHECK(!memcmp(w->data + start + 4, "mfra", 4));
}

static void put_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len && close(fd) == 0);
}

/* What the scan must say of the first `cut` bytes of the file. */
static RecMp4Scan expected(const Written *w, int64_t cut)
{
    RecMp4Scan e = {.file_size = cut};
    if (cut < w->header_end)
        return e; /* no complete moov: nothing */
    e.header_end = e.playable_end = w->header_end;
    for (int i = 0; i < w->fragments && w->frag_end[i] <= cut; i++) {
        e.fragments++;
        e.playable_end = w->frag_end[i];
    }
    if (cut == w->size)
        e.playable_end = w->size; /* the trailer arrived: a complete file */
    return e;
}

static void check_scan(const char *path, const RecMp4Scan *want, int64_t cut)
{
    RecMp4Scan got;
    int ret = rec_mp4_scan(path, &got);
    if (ret != 0 || got.file_size != want->file_size || got.header_end != want->header_end ||
        got.playable_end != want->playable_end || got.fragments != want->fragments) {
        fprintf(stderr,
                "cut at %lld: scan returned %d, size %lld, header_end %lld, playable_end %lld, "
                "%d fragments; expected size %lld, header_end %lld, playable_end %lld, "
                "%d fragments\n",
                (long long)cut, ret, (long long)got.file_size, (long long)got.header_end,
                (long long)got.playable_end, got.fragments, (long long)want->file_size,
                (long long)want->header_end, (long long)want->playable_end, want->fragments);
        exit(1);
    }
}

/* Every cut from the whole file down to nothing. */
static void test_every_cut(void)
{
    const Written *w = &w_;
    char path[128];
    snprintf(path, sizeof(path), "%s/cut.mp4", dir);
    put_file(path, w->data, (size_t)w->size);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    for (int64_t cut = w->size; cut >= 0; cut--) {
        CHECK(ftruncate(fd, cut) == 0);
        RecMp4Scan want = expected(w, cut);
        check_scan(path, &want, cut);
    }
    close(fd);
}

/* A crash can leave zeros after the last write (delayed allocation): a box
 * of size 0 is torn, not "to the end of the file". */
static void test_zero_tail(void)
{
    const Written *w = &w_;
    char path[128];
    int64_t cut = w->frag_end[1];
    size_t len = (size_t)cut + 4096;
    uint8_t *buf = calloc(1, len);
    CHECK(buf);
    memcpy(buf, w->data, (size_t)cut);
    snprintf(path, sizeof(path), "%s/zeros.mp4", dir);
    put_file(path, buf, len);
    RecMp4Scan want = expected(w, cut);
    want.file_size = (int64_t)len;
    check_scan(path, &want, cut);
    free(buf);
}

/*
 * The file's first `end` bytes with `box` inserted at `at`, as dir/`name`
 * (into path). Returns the bytes (the caller frees them); *len is their count.
 */
static uint8_t *put_spliced(const char *name, int64_t at, const uint8_t *box, size_t box_len,
                            int64_t end, char *path, size_t path_size, size_t *len)
{
    const Written *w = &w_;
    *len = (size_t)end + box_len;
    uint8_t *buf = malloc(*len);
    CHECK(buf);
    memcpy(buf, w->data, (size_t)at);
    memcpy(buf + at, box, box_len);
    memcpy(buf + at + box_len, w->data + at, (size_t)(end - at));
    snprintf(path, path_size, "%s/%s", dir, name);
    put_file(path, buf, *len);
    return buf;
}

/* A box with a 64-bit size between two fragments is stepped over, and one
 * torn in its header or body ends the scan there. */
static void test_large_size_box(void)
{
    const Written *w = &w_;
    char path[128];
    uint8_t box[16 + 8] = {0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, sizeof(box)};
    int64_t a = w->frag_end[0];
    size_t len;
    uint8_t *buf =
        put_spliced("large.mp4", a, box, sizeof(box), w->frag_end[1], path, sizeof(path), &len);
    RecMp4Scan want = {.file_size = (int64_t)len,
                       .header_end = w->header_end,
                       .playable_end = (int64_t)len,
                       .fragments = 2};
    check_scan(path, &want, (int64_t)len);
    /* Torn inside the 64-bit size, and inside the box. */
    for (size_t cut = (size_t)a + 9; cut < (size_t)a + sizeof(box); cut++) {
        put_file(path, buf, cut);
        want = (RecMp4Scan){.file_size = (int64_t)cut,
                            .header_end = w->header_end,
                            .playable_end = a,
                            .fragments = 1};
        check_scan(path, &want, (int64_t)cut);
    }
    free(buf);
}

/* An mdat counts only right after its moof: the moof's data offsets point
 * there (default_base_moof), so with anything between them it is garbage. */
static void test_mdat_apart_from_moof(void)
{
    const Written *w = &w_;
    char path[128];
    const uint8_t box[8] = {0, 0, 0, 8, 'f', 'r', 'e', 'e'};
    int64_t a = w->frag_end[0], b = w->frag_end[1];
    /* The second fragment's moof ends where its mdat begins. */
    int64_t mdat = a;
    while (memcmp(w->data + mdat + 4, "mdat", 4)) {
        const uint8_t *h = w->data + mdat;
        mdat += (int64_t)((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3]);
        CHECK(mdat < b);
    }
    size_t len;
    uint8_t *buf = put_spliced("apart.mp4", mdat, box, sizeof(box), b, path, sizeof(path), &len);
    RecMp4Scan want = {
        .file_size = (int64_t)len, .header_end = w->header_end, .playable_end = a, .fragments = 1};
    check_scan(path, &want, (int64_t)len);
    free(buf);
}

/* Fragments without the header in front (a lost start) are not playable. */
static void test_no_header(void)
{
    const Written *w = &w_;
    char path[128];
    snprintf(path, sizeof(path), "%s/headless.mp4", dir);
    put_file(path, w->data + w->header_end, (size_t)(w->size - w->header_end));
    RecMp4Scan want = {.file_size = w->size - w->header_end};
    check_scan(path, &want, want.file_size);
}

static void test_missing_file(void)
{
    RecMp4Scan scan;
    char path[128];
    snprintf(path, sizeof(path), "%s/none.mp4", dir);
    CHECK(rec_mp4_scan(path, &scan) == -ENOENT);
}

int main(void)
{
    char path[128];

    snprintf(dir, sizeof(dir), "/tmp/camwatch-mp4scan-XXXXXX");
    CHECK(mkdtemp(dir));
    av_log_set_level(AV_LOG_ERROR);
    snprintf(path, sizeof(path), "%s/clip.mp4", dir);
    write_clip(path, &w_);
    check_layout(&w_);
    printf("ok written: a header and %d fragments\n", w_.fragments);

    RUN(test_every_cut);
    RUN(test_zero_tail);
    RUN(test_large_size_box);
    RUN(test_mdat_apart_from_moof);
    RUN(test_no_header);
    RUN(test_missing_file);

    const char *names[] = {"clip", "cut", "zeros", "large", "apart", "headless"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s.mp4", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    free(w_.data);
    return 0;
}
