/*
 * Motion detector over OpenCV imgproc: see motion.h for the contract.
 *
 * The only C++ in camwatch. Every entry point is `extern "C"`, catches every
 * exception (cv::Exception, std::bad_alloc, anything else) and turns it into
 * a negative errno: an exception must never unwind into C frames.
 *
 * Per frame, on the picture scaled down to detect_width (320 by default):
 *
 *   1. resize(INTER_AREA) straight from the full-size luma: an area average
 *      is the right filter for a large reduction (no aliasing, and it already
 *      averages away most sensor noise), and it reads the big picture once.
 *   2. GaussianBlur 5x5: what noise INTER_AREA left, and compression's
 *      blocking, must not count as change.
 *   3. A running-average background (CV_32F, accumulateWeighted) against
 *      which the frame is compared: absdiff, threshold, countNonZero.
 *   4. If the changed share reaches light_change_percent, the whole picture
 *      changed at once: lights, sun, an IR switch. No person does that, so it
 *      is reported as lighting, never as motion (see "Lighting" below).
 *   5. Otherwise dilate the mask (3x3, twice) so that fragments of one body
 *      join, take the external contours, keep those of at least
 *      min_area_percent of the picture, merge boxes that overlap or nearly
 *      touch, scale them to the full frame.
 *   6. Learn: the background moves towards the frame at background_alpha
 *      where nothing changed, and five times slower (motion_alpha) under the
 *      dilated mask. A plain running average would absorb a person who stops
 *      walking in a few seconds and end the event while they are still
 *      there; never learning under the mask would keep forever a "ghost" of
 *      anything that moved away (a parked car leaving). The slow rate is the
 *      simple middle: a still person stays detected for some 15-20 s, a
 *      ghost fades in the same time.
 *
 * Lighting. Re-seeding the background from the frame that changed is the
 * simple answer, but it paints whoever is in the picture into the
 * background: they vanish, and leave ghosts when they walk on. So the change
 * is first explained with a tone curve: for each brightness level of the old
 * background, the median level the new frame has there (a 256x256 joint
 * histogram; people are too few to move a median). The old background,
 * mapped through that curve, is the new lighting without the people. It is
 * kept if it explains the frame about as well as the background explained
 * the frames before the change; a change no curve explains (an IR switch
 * that makes grass bright, a lamp lighting one corner) falls back to the
 * re-seed. Either way the next warmup_frames frames settle (auto-exposure
 * takes a second or two to converge): they report lighting, not motion, and
 * either re-fit the curve each frame or average into the new background.
 *
 * Every picture buffer is a member, allocated when the frame size first
 * appears: the per-frame path does not allocate (OpenCV may use a small
 * scratch buffer inside resize, and findContours its point vectors, which
 * keep their capacity between frames).
 */

#include "motion.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>

namespace
{

const int kBlurKernel = 5;
const int kDilateIterations = 2;
const double kDefaultBackgroundAlpha = 0.05;
const double kMotionAlphaRatio = 0.2; /* motion_alpha = background_alpha / 5 by default */

/* Boxes whose gap is below this share of the analysed width are one region:
 * a person's head and legs, split by a railing, are one person. */
const double kMergeGapFraction = 1.0 / 40.0;

/* A tone curve explains a lighting change if what it leaves changed is at
 * most this many times what changed before the lighting did, plus a margin
 * in points of percent (the people who were there are still there). */
const double kRelightTolerance = 1.5;
const double kRelightMarginPercent = 2.0;

/* A background level needs this many pixels for its median to be trusted;
 * the levels in between are interpolated. */
const uint32_t kRelightMinSamples = 16;

int errno_of(const cv::Exception &e)
{
    return e.code == cv::Error::StsNoMem ? -ENOMEM : -EIO;
}

enum class Phase {
    Learning,   /* averaging frames into a new background, nothing reported */
    Relighting, /* following a lighting change with a fitted tone curve */
    Watching,   /* detecting */
};

} // namespace

struct CwMotion {
    CwMotionParams params;

    /* The ingested frame, scaled down; `staged` until processed. */
    cv::Mat small;
    int staged_width = 0, staged_height = 0;
    bool staged = false;

    /* Size of the frames the background was learned from (0: no background). */
    int frame_width = 0, frame_height = 0;
    Phase phase = Phase::Learning;
    int learned = 0;           /* frames the background's running mean holds */
    int settle_left = 0;       /* frames left in Learning or Relighting */
    bool after_light = false;  /* the Learning follows a lighting change */
    float watched_percent = 0; /* changed share of the last frame watched */

    cv::Mat blurred;     /* CV_8U, small size */
    cv::Mat background;  /* CV_32F: the running average needs fractions */
    cv::Mat background8; /* CV_8U copy of it to compare with */
    cv::Mat diff;
    cv::Mat mask;    /* changed pixels */
    cv::Mat dilated; /* changed pixels, fragments joined */
    cv::Mat still;   /* ~dilated: where the background learns at full rate */
    std::vector<std::vector<cv::Point>> contours;
    std::vector<cv::Rect> rects;
    std::vector<uint32_t> joint; /* 256x256 histogram (background level, frame level) */
};

namespace
{

bool params_valid(const CwMotionParams *p)
{
    return p->detect_width >= 16 && p->detect_width <= 4096 && p->threshold >= 1 &&
           p->threshold <= 255 && p->min_area_percent > 0 && p->min_area_percent <= 100 &&
           p->light_change_percent > 0 && p->light_change_percent <= 100 && p->warmup_frames >= 0 &&
           p->warmup_frames <= 10000 && p->background_alpha >= 0 && p->background_alpha <= 1 &&
           p->motion_alpha >= 0 && p->motion_alpha <= 1;
}

/* Size analysed for a frame: detect_width wide, same aspect, never larger
 * than the frame itself (upscaling costs time and adds nothing). */
cv::Size analysed_size(const CwMotionParams *p, int width, int height)
{
    if (width <= p->detect_width)
        return cv::Size(width, height);
    long h = std::lround((double)height * p->detect_width / width);
    return cv::Size(p->detect_width, (int)std::max(1L, h));
}

void forget_background(CwMotion *m)
{
    m->frame_width = 0;
    m->frame_height = 0;
    m->phase = Phase::Learning;
    m->learned = 0;
    m->settle_left = 0;
    m->after_light = false;
    m->watched_percent = 0;
}

/* Phase after a settling frame, once `settle_left` reached 0. */
void settle_step(CwMotion *m)
{
    if (m->settle_left > 0)
        m->settle_left--;
    if (m->settle_left == 0)
        m->phase = Phase::Watching;
}

/* Start a background from the blurred frame. This frame cannot be judged
 * (there is nothing to compare it with), so it counts as the first of the
 * warm-up. */
void seed_background(CwMotion *m, bool after_light_change)
{
    m->blurred.convertTo(m->background, CV_32F);
    m->frame_width = m->staged_width;
    m->frame_height = m->staged_height;
    m->learned = 1;
    m->after_light = after_light_change;
    m->phase = Phase::Learning;
    m->settle_left = std::max(0, m->params.warmup_frames - 1);
    if (m->settle_left == 0)
        m->phase = Phase::Watching;
}

/* Compare the blurred frame with the background: fills `mask`, returns the
 * changed share in percent. */
double compare(CwMotion *m)
{
    m->background.convertTo(m->background8, CV_8U);
    cv::absdiff(m->blurred, m->background8, m->diff);
    cv::threshold(m->diff, m->mask, m->params.threshold, 255, cv::THRESH_BINARY);
    return cv::countNonZero(m->mask) * 100.0 / (double)m->mask.total();
}

/*
 * Map the background through the tone curve that turns its levels into the
 * frame's (see "Lighting" at the top). Sets *residual to the changed share
 * left. Returns true if the result explains the frame; false leaves a
 * background the caller must re-seed.
 */
bool relight(CwMotion *m, double *residual)
{
    float lut[256];
    bool have[256];
    int first = -1, last = -1;

    m->background.convertTo(m->background8, CV_8U);
    std::fill(m->joint.begin(), m->joint.end(), 0);
    for (int y = 0; y < m->blurred.rows; y++) {
        const uint8_t *b = m->background8.ptr<uint8_t>(y);
        const uint8_t *f = m->blurred.ptr<uint8_t>(y);
        for (int x = 0; x < m->blurred.cols; x++)
            m->joint[(size_t)b[x] << 8 | f[x]]++;
    }
    for (int level = 0; level < 256; level++) {
        const uint32_t *row = &m->joint[(size_t)level << 8];
        uint32_t total = 0;
        for (int v = 0; v < 256; v++)
            total += row[v];
        have[level] = total >= kRelightMinSamples;
        if (!have[level])
            continue;
        uint32_t seen = 0;
        int v = 0;
        while (v < 255 && (seen += row[v]) * 2 < total)
            v++;
        lut[level] = (float)v;
        if (first < 0)
            first = level;
        last = level;
    }
    if (first < 0)
        return false;
    /* Levels with too few pixels: interpolate between trusted neighbours,
     * and beyond the ends keep the nearest trusted shift. */
    for (int level = 0; level < 256; level++) {
        if (have[level])
            continue;
        if (level < first) {
            lut[level] = (float)level + lut[first] - (float)first;
        } else if (level > last) {
            lut[level] = (float)level + lut[last] - (float)last;
        } else {
            int hi = level + 1;
            while (!have[hi])
                hi++;
            int lo = level - 1; /* filled already, trusted or not */
            lut[level] = lut[lo] + (lut[hi] - lut[lo]) / (float)(hi - lo);
        }
        lut[level] = std::min(255.0f, std::max(0.0f, lut[level]));
    }
    /* Apply with interpolation between levels: the background keeps its
     * fractions, which the slow learning rates depend on. */
    for (int y = 0; y < m->background.rows; y++) {
        float *p = m->background.ptr<float>(y);
        for (int x = 0; x < m->background.cols; x++) {
            float v = std::min(255.0f, std::max(0.0f, p[x]));
            int i = std::min(254, (int)v);
            p[x] = lut[i] + (v - (float)i) * (lut[i + 1] - lut[i]);
        }
    }
    *residual = compare(m);
    return *residual <= m->watched_percent * kRelightTolerance + kRelightMarginPercent;
}

bool boxes_near(const cv::Rect &a, const cv::Rect &b, int gap)
{
    return a.x - gap < b.x + b.width && b.x - gap < a.x + a.width && a.y - gap < b.y + b.height &&
           b.y - gap < a.y + a.height;
}

/* Union of boxes that overlap or nearly touch, until none do. A union can
 * reach a box it did not touch before, hence the restart; there are a few
 * dozen boxes at most. */
void merge_rects(std::vector<cv::Rect> &rects, int gap)
{
    bool merged = true;
    while (merged) {
        merged = false;
        for (size_t i = 0; i < rects.size() && !merged; i++) {
            for (size_t j = i + 1; j < rects.size(); j++) {
                if (boxes_near(rects[i], rects[j], gap)) {
                    rects[i] |= rects[j];
                    rects.erase(rects.begin() + (long)j);
                    merged = true;
                    break;
                }
            }
        }
    }
}

uint16_t scale_coord(double v, int limit)
{
    return (uint16_t)std::min<double>(std::max(0.0, v), limit);
}

/* Regions of the dilated mask, largest first, in the frame's pixels. */
void find_boxes(CwMotion *m, CwMotionResult *out)
{
    const double pixels = (double)m->dilated.total();
    const double min_area = m->params.min_area_percent * pixels / 100.0;

    cv::findContours(m->dilated, m->contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    m->rects.clear();
    for (const std::vector<cv::Point> &c : m->contours) {
        /* contourArea measures the polygon through the boundary pixels'
         * centres, which misses half of each boundary pixel: a blob of a few
         * pixels would measure 0. Pick's theorem gives the pixel count. */
        double area = cv::contourArea(c) + cv::arcLength(c, true) / 2 + 1;
        if (area >= min_area)
            m->rects.push_back(cv::boundingRect(c));
    }
    int gap = std::max(1, (int)(m->dilated.cols * kMergeGapFraction));
    merge_rects(m->rects, gap);
    std::sort(m->rects.begin(), m->rects.end(),
              [](const cv::Rect &a, const cv::Rect &b) { return a.area() > b.area(); });

    const double sx = (double)m->frame_width / m->dilated.cols;
    const double sy = (double)m->frame_height / m->dilated.rows;
    int n = (int)std::min<size_t>(m->rects.size(), CW_MAX_BOXES);
    for (int i = 0; i < n; i++) {
        const cv::Rect &r = m->rects[(size_t)i];
        /* Outward rounding: the full-size box covers every full-size pixel
         * that went into the small one. */
        uint16_t x0 = scale_coord(std::floor(r.x * sx), m->frame_width);
        uint16_t y0 = scale_coord(std::floor(r.y * sy), m->frame_height);
        uint16_t x1 = scale_coord(std::ceil((r.x + r.width) * sx), m->frame_width);
        uint16_t y1 = scale_coord(std::ceil((r.y + r.height) * sy), m->frame_height);
        out->boxes[i] = CwBox{x0, y0, (uint16_t)(x1 - x0), (uint16_t)(y1 - y0)};
    }
    out->box_count = n;
    out->motion = n > 0;
}

/* Teach the background this frame (see the top of the file for the rates). */
void learn(CwMotion *m, bool anything_changed)
{
    if (!anything_changed) {
        cv::accumulateWeighted(m->blurred, m->background, m->params.background_alpha);
        return;
    }
    cv::bitwise_not(m->dilated, m->still);
    cv::accumulateWeighted(m->blurred, m->background, m->params.background_alpha, m->still);
    cv::accumulateWeighted(m->blurred, m->background, m->params.motion_alpha, m->dilated);
}

/*
 * A frame of a lighting change, or of the settling after one. After the
 * curve, the frame is also averaged in, with the relit background weighing
 * as much as the whole settling: what no curve can express but stays put
 * (the edge of a highlight that clipped, blurred with its surroundings)
 * fades in within the settling, while someone walking through leaves too
 * faint a trace to be seen, and someone standing still stays detected.
 * Returns the changed share the curve left.
 */
double handle_light_change(CwMotion *m)
{
    double residual = 0;
    if (!relight(m, &residual)) {
        seed_background(m, true);
        return residual;
    }
    if (m->phase == Phase::Watching) {
        m->phase = Phase::Relighting;
        m->settle_left = m->params.warmup_frames;
        m->learned = std::max(1, m->params.warmup_frames);
    }
    m->learned++;
    cv::accumulateWeighted(m->blurred, m->background, 1.0 / m->learned);
    settle_step(m);
    return residual;
}

int process(CwMotion *m, CwMotionResult *out)
{
    cv::GaussianBlur(m->small, m->blurred, cv::Size(kBlurKernel, kBlurKernel), 0);

    if (m->learned > 0 &&
        (m->staged_width != m->frame_width || m->staged_height != m->frame_height))
        forget_background(m); /* another picture: the old background means nothing */
    if (m->learned == 0) {
        seed_background(m, false);
        out->warming_up = 1;
        return 0;
    }
    switch (m->phase) {
    case Phase::Learning:
        /* The mean of the warm-up frames rather than the last one: someone
         * walking through during the warm-up is averaged down to a faint
         * trace instead of being painted into the background. */
        m->learned++;
        cv::accumulateWeighted(m->blurred, m->background, 1.0 / m->learned);
        settle_step(m);
        out->warming_up = 1;
        out->light_change = m->after_light;
        return 0;
    case Phase::Relighting:
        out->changed_percent = (float)handle_light_change(m);
        out->warming_up = 1;
        out->light_change = 1;
        return 0;
    case Phase::Watching:
        break;
    }

    out->changed_percent = (float)compare(m);
    if (out->changed_percent >= m->params.light_change_percent) {
        handle_light_change(m);
        out->light_change = 1;
        return 0;
    }
    m->watched_percent = out->changed_percent;
    bool anything_changed = out->changed_percent > 0;
    if (anything_changed) {
        cv::dilate(m->mask, m->dilated, cv::Mat(), cv::Point(-1, -1), kDilateIterations);
        find_boxes(m, out);
    }
    learn(m, anything_changed);
    return 0;
}

} // namespace

extern "C" {

void cw_motion_params_default(CwMotionParams *p)
{
    std::memset(p, 0, sizeof(*p));
    p->detect_width = 320;
    p->threshold = 25;
    p->min_area_percent = 0.5;
    p->light_change_percent = 60;
    p->warmup_frames = 10;
}

CwMotion *cw_motion_new(const CwMotionParams *p)
{
    if (!p || !params_valid(p))
        return nullptr;
    try {
        static bool threads_set = false;
        if (!threads_set) {
            cv::setNumThreads(1);
            threads_set = true;
        }
        CwMotion *m = new CwMotion();
        m->params = *p;
        if (m->params.background_alpha == 0)
            m->params.background_alpha = kDefaultBackgroundAlpha;
        if (m->params.motion_alpha == 0)
            m->params.motion_alpha = m->params.background_alpha * kMotionAlphaRatio;
        m->contours.reserve(64);
        m->rects.reserve(64);
        m->joint.resize(256 * 256);
        return m;
    } catch (...) {
        return nullptr;
    }
}

int cw_motion_ingest(CwMotion *m, const uint8_t *luma, int width, int height, int linesize)
{
    if (!m || !luma || width <= 0 || height <= 0 || width > 65535 || height > 65535 ||
        linesize < width)
        return -EINVAL;
    m->staged = false;
    try {
        /* A header over the caller's memory: no copy, and OpenCV only reads
         * through a const source. */
        const cv::Mat full(height, width, CV_8UC1, const_cast<uint8_t *>(luma), (size_t)linesize);
        cv::resize(full, m->small, analysed_size(&m->params, width, height), 0, 0, cv::INTER_AREA);
    } catch (const cv::Exception &e) {
        return errno_of(e);
    } catch (const std::bad_alloc &) {
        return -ENOMEM;
    } catch (...) {
        return -EIO;
    }
    m->staged_width = width;
    m->staged_height = height;
    m->staged = true;
    return 0;
}

int cw_motion_process(CwMotion *m, CwMotionResult *out)
{
    int ret;
    std::memset(out, 0, sizeof(*out));
    if (!m || !m->staged)
        return -EAGAIN;
    m->staged = false;
    try {
        ret = process(m, out);
    } catch (const cv::Exception &e) {
        ret = errno_of(e);
    } catch (const std::bad_alloc &) {
        ret = -ENOMEM;
    } catch (...) {
        ret = -EIO;
    }
    if (ret < 0) {
        /* The background may be half-updated: start again rather than trust it. */
        forget_background(m);
        std::memset(out, 0, sizeof(*out));
    }
    return ret;
}

int cw_motion_analyse(CwMotion *m, const uint8_t *luma, int width, int height, int linesize,
                      CwMotionResult *out)
{
    int ret = cw_motion_ingest(m, luma, width, height, linesize);
    if (ret < 0) {
        std::memset(out, 0, sizeof(*out));
        return ret;
    }
    return cw_motion_process(m, out);
}

void cw_motion_reset(CwMotion *m)
{
    if (m)
        forget_background(m);
}

void cw_motion_free(CwMotion **m)
{
    if (!m || !*m)
        return;
    delete *m;
    *m = nullptr;
}

} /* extern "C" */
