/*
 * Motion detector over OpenCV imgproc: see motion.h for the contract.
 *
 * With filters.cpp, the only C++ in camwatch. Every entry point is
 * `extern "C"`, catches every exception (cv::Exception, std::bad_alloc,
 * anything else) and turns it into a negative errno: an exception must
 * never unwind into C frames.
 *
 * Per frame, on the picture scaled down to detect_width (320 by default):
 *
 *   1. Scale down by area averaging in one pass: the mean of each block
 *      of kx x ky pixels, kx and ky the largest whole factors that fit
 *      (6 x 6 for 1080p to 320x180, 4 x 4 for 720p), then, if the factor
 *      was not exact, one INTER_LINEAR step of less than 2 (768x576 to
 *      320x240: 2 x 2, then 384x288 to 320). The block mean is the exact
 *      area average (no aliasing, and it averages away sensor noise), and
 *      it reads the frame once, as one stream, writing nothing else: this
 *      step is most of the detector's cost, and its cost is reading the
 *      frame, which is not in the cache (the decoder wrote it). Measured in
 *      bench/detect_bench on 1080p, CPU time per analysed frame: halving by
 *      INTER_AREA twice then a linear step, as this did before, 0.53 ms;
 *      this, 0.19 ms. (A single INTER_AREA by 6 takes OpenCV's generic area
 *      path: 0.6 ms even on a frame in the cache.)
 *   2. A 5x5 Gaussian blur (the binomial 1 4 6 4 1, cw::blur5() in
 *      filters.h: OpenCV's GaussianBlur to the pixel, cheaper on this
 *      small picture when it is not in the cache): what noise the scaling
 *      left, and compression's blocking, must not count as change.
 *   3. Lighting (see "Lighting" below): a monotone tone curve that maps the
 *      background's levels to the frame's, fitted robustly on a subsample;
 *      the background is relit through it before anything is compared.
 *   4. Noise: the robust standard deviation (MAD) of frame minus relit
 *      background over the same subsample, smoothed over frames; the
 *      threshold is noise_factor times it, never below `threshold`.
 *   5. absdiff, threshold, outside the mask. A change the curve left over
 *      light_change_percent of the picture is a new scene (an IR switch
 *      makes grass bright: no monotone curve does that): the background is
 *      learned again.
 *   6. Dilate the changed pixels (3x3, twice: cw::dilate_square()) so that fragments of one body
 *      join, label the regions, and keep those of at least min_area_percent
 *      of the picture. A region whose change is a gain and offset of its own
 *      background (a lamp lighting one corner, a shadow) is relit in place
 *      and is not motion. The rest become boxes: merged when they overlap or
 *      nearly touch, scaled to the full frame.
 *   7. Learn: the background moves towards the frame at background_alpha
 *      where nothing changed, and five times slower (motion_alpha) under the
 *      dilated regions. A plain running average would absorb a person who
 *      stops walking in a few seconds and end the event while they are still
 *      there; never learning under the mask would keep forever a "ghost" of
 *      anything that moved away (a parked car leaving). The slow rate is the
 *      simple middle: a still person stays detected for some 15-20 s, a
 *      ghost fades in the same time.
 *
 * Lighting. The curve is, for each band of 8 background levels, the median
 * difference between the frame and the background there, at the band's mean
 * level, made monotone (pool-adjacent-violators, weighted by pixel counts)
 * and interpolated into a 256-entry table. People are too few in any band to
 * move its median, so the curve says how the *scene* is lit now, whatever
 * share of the picture the change pushes over the threshold: a step that
 * lifts bright areas over the threshold and leaves dark ones under it is
 * explained as well as one over the whole picture. The background itself is
 * relit through the curve (when it is not the identity), so a slow drift
 * (clouds, dusk) is followed frame by frame rather than caught up with in
 * steps, and the learning rates keep their meaning. In a frame whose
 * lighting changed, the background stops predicting the frame in two ways,
 * and those pixels are learned from the frame at once: a band whose
 * differences spread far wider than the noise (an IR switch lights grass
 * and leaves asphalt), and the changed pixels of the darkest and brightest
 * bands, where clipping had erased the texture (the brightening clipped a
 * white van to one level; when the light goes back the van comes back with
 * its windows, which no curve can restore).
 *
 * A region the global curve leaves changed is lighting of its own if, over
 * its changed pixels, frame = a * background + b explains nearly every pixel
 * (a robust straight-line fit, a in [1/4, 4]) and the background there has
 * texture: a lamp or a shadow keeps the pattern under it, a person replaces
 * it. On a flat background the fit cannot tell a lamp from a grey coat, so
 * it is not trusted there and the region stays motion (detect/confirm.h
 * then keeps a region that does not move from becoming an event).
 *
 * Every picture buffer is a member, allocated when the frame size first
 * appears: the per-frame path does not allocate (OpenCV may use a small
 * scratch buffer inside resize, findContours its point vectors, which keep
 * their capacity between frames).
 */

#include "motion.h"

#include "filters.h"

#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>

namespace
{

const int kDilateIterations = 2;
const double kDefaultBackgroundAlpha = 0.05;
const double kMotionAlphaRatio = 0.2; /* motion_alpha = background_alpha / 5 by default */
const double kDefaultNoiseFactor = 4.0;

/* The largest block the scaling averages in one pass (per axis): its sums
 * fit 16 bits, and a 1080p frame analysed at 320 (a factor of 6), 4K at 320
 * (12) need one pass. */
const int kMaxBoxFactor = 16;

/* Boxes whose gap is below this share of the analysed width are one region:
 * a person's head and legs, split by a railing, are one person. */
const double kMergeGapFraction = 1.0 / 40.0;

/* The tone curve: bands of 8 levels; a band is trusted with at least this
 * many samples, and this share of all samples (a band a person fills half of
 * would follow the person). About 8000 samples are taken per frame. */
const int kBands = 32;
const int kBandShift = 3;
const int kDiffSpan = 511; /* frame - background, -255..255 */
const int kMinBandSamples = 32;
const double kMinBandShare = 0.005;
const int kTargetSamples = 8000;

/* A curve within this many levels of the identity everywhere is not applied:
 * relighting every frame by the medians' own jitter would cost time and make
 * the background wander. The curve measures the whole offset between the
 * background and the frame, not a step, so a drift is relit as soon as it
 * adds up to this. */
const double kIdentityLevels = 1.0;

/* A frame's lighting changed when the curve moves at least this share of the
 * picture by half the threshold or more. */
const double kLightChangeShare = 0.01;

/* In a lighting change, a band whose differences spread (MAD) more than this
 * many times the typical band's (the median over the bands: the noise, as
 * this frame has it), and more than a third of the threshold, is no longer
 * predicted by the background: its pixels are learned from the frame. */
const double kLostBandSpread = 3.0;

/* The noise: residuals in quarter levels. The estimate rises at once with a
 * frame's (the first frame of a noisy night must not fire) and falls back
 * with this weight per frame (a lighting change that the curve explained
 * only roughly lifts one frame's estimate). A MAD of a Gaussian is 0.6745
 * sigma. */
const int kNoiseScale = 4;
const int kNoiseSpan = 2 * 255 * kNoiseScale + 1;
const double kNoiseFall = 0.05;
const double kMadToSigma = 1.4826;

/* A region's own lighting (see the top): the fit's gain range, the share of
 * its changed pixels it must explain, the share of the frame's variation
 * there it must account for, and the texture the background needs there. */
const double kRegionMinGain = 0.25;
const double kRegionMaxGain = 4.0;
const double kRegionExplained = 0.9;
const double kRegionMinR2 = 0.7;
const double kRegionMinTexture = 6.0;
const int kRegionSamples = 256;

int errno_of(const cv::Exception &e)
{
    return e.code == cv::Error::StsNoMem ? -ENOMEM : -EIO;
}

enum class Phase {
    Learning, /* averaging frames into a new background, nothing reported */
    Watching, /* detecting */
};

/* A point of the tone curve: background level -> frame level, its weight,
 * and the band it stands for. */
struct CurvePoint {
    double x, y, w;
    int band;
};

} // namespace

struct CwMotion {
    CwMotionParams params;

    /* The ingested frame, scaled down; `staged` until processed. */
    cv::Mat boxed; /* the block averages, when a last resize is needed */
    std::vector<uint16_t> column_sums;
    cv::Mat small;
    int staged_width = 0, staged_height = 0;
    bool staged = false;

    /* Size of the frames the background was learned from (0: no background). */
    int frame_width = 0, frame_height = 0;
    Phase phase = Phase::Learning;
    int learned = 0;          /* frames the background's running mean holds */
    int settle_left = 0;      /* frames left in Learning */
    bool after_light = false; /* the Learning follows a new scene */
    bool have_view = false;   /* the pictures below belong to a processed frame */

    cv::Mat blurred; /* CV_8U, small size */
    cw::FilterScratch filters;
    cv::Mat background;  /* CV_32F: the running average needs fractions */
    cv::Mat background8; /* CV_8U copy of it to compare with */
    cv::Mat prior8;      /* background8 before a lighting change relit it */
    cv::Mat diff;
    cv::Mat mask;    /* changed pixels */
    cv::Mat dilated; /* changed pixels, fragments joined */
    cv::Mat still;   /* ~dilated: where the background learns at full rate */
    std::vector<std::vector<cv::Point>> contours;
    cv::Mat regions; /* picture-sized: one region filled in its top left corner, for
                      * region_is_lighting(), with no allocation per region */
    std::vector<cv::Rect> rects;

    /* MOTION_MASK, as given and as rasterised at the analysed size. */
    CwPolygonSet mask_polygons;
    bool have_mask = false;
    cv::Mat masked;  /* 255 inside the mask's polygons */
    cv::Mat allowed; /* 255 outside */

    /* Lighting and noise. */
    std::vector<uint32_t> band_hist; /* kBands x kDiffSpan */
    std::vector<uint32_t> noise_hist;
    float lut[256];
    std::vector<CurvePoint> points;
    std::vector<float> region_b, region_f, region_res;
    double noise_sigma = 0;
    bool have_noise = false;
};

namespace
{

bool params_valid(const CwMotionParams *p)
{
    return p->detect_width >= 16 && p->detect_width <= 4096 && p->threshold >= 1 &&
           p->threshold <= 255 && p->min_area_percent > 0 && p->min_area_percent <= 100 &&
           p->light_change_percent > 0 && p->light_change_percent <= 100 && p->warmup_frames >= 0 &&
           p->warmup_frames <= 10000 && p->background_alpha >= 0 && p->background_alpha <= 1 &&
           p->motion_alpha >= 0 && p->motion_alpha <= 1 && p->noise_factor >= 0 &&
           p->noise_factor <= 50;
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

/* The vector paths below read two bytes as one 16-bit lane, low byte first. */
#if CV_SIMD128 && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CW_BOX_SIMD 1
#else
#define CW_BOX_SIMD 0
#endif

/*
 * Add one row to the column sums, split by the column's parity: even[i]
 * gets column 2 i, odd[i] column 2 i + 1, of the first 2 * pairs columns
 * (kFirst: the sums start at this row). The split is what a 16-bit lane
 * holding two bytes gives for one AND and one shift, and it is already half
 * of summing pairs of columns.
 */
template <bool kFirst> void add_row(const uint8_t *row, int pairs, uint16_t *even, uint16_t *odd)
{
    int i = 0;
#if CW_BOX_SIMD
    const int lanes = cv::v_uint16x8::nlanes;
    const cv::v_uint16x8 low_byte = cv::v_setall_u16(0xff);
    for (; i + lanes <= pairs; i += lanes) {
        const cv::v_uint16x8 both = cv::v_reinterpret_as_u16(cv::v_load(row + 2 * i));
        cv::v_uint16x8 e = both & low_byte, o = both >> 8;
        if (!kFirst) {
            e += cv::v_load(even + i);
            o += cv::v_load(odd + i);
        }
        cv::v_store(even + i, e);
        cv::v_store(odd + i, o);
    }
#endif
    for (; i < pairs; i++) {
        even[i] = (uint16_t)((kFirst ? 0 : even[i]) + row[2 * i]);
        odd[i] = (uint16_t)((kFirst ? 0 : odd[i]) + row[2 * i + 1]);
    }
}

/*
 * Add one row's pairs of columns to sums[i] (columns 2 i and 2 i + 1, for
 * i < pairs; kFirst: the sums start at this row): for an even factor, the
 * pairs are all box_reduce() needs, and one array of sums is half the
 * loads and stores of add_row()'s two. On 1080p (a factor of 6) the scaling
 * went from 0.221 to 0.205 ms per frame (medians of 8 alternating runs on a
 * busy machine).
 */
template <bool kFirst> void add_row_pairs(const uint8_t *row, int pairs, uint16_t *sums)
{
    int i = 0;
#if CW_BOX_SIMD
    const int lanes = cv::v_uint16x8::nlanes;
    const cv::v_uint16x8 low_byte = cv::v_setall_u16(0xff);
    for (; i + lanes <= pairs; i += lanes) {
        const cv::v_uint16x8 both = cv::v_reinterpret_as_u16(cv::v_load(row + 2 * i));
        cv::v_uint16x8 v = (both & low_byte) + (both >> 8);
        if (!kFirst)
            v += cv::v_load(sums + i);
        cv::v_store(sums + i, v);
    }
#endif
    for (; i < pairs; i++)
        sums[i] = (uint16_t)((kFirst ? 0 : sums[i]) + row[2 * i] + row[2 * i + 1]);
}

/*
 * Sum `ky` rows of `src` from row `y0`, over its first `n` columns, into
 * even[] and odd[] (see add_row(); even[n / 2] gets the last column when n
 * is odd). ky <= kMaxBoxFactor, so a sum fits 16 bits. One row after the
 * other: the frame is read once, as one sequential stream. That is what
 * keeps this cheap on a frame fresh from the decoder (not in the cache):
 * adding two or four rows per pass, which halves the loads and stores of
 * the sums, made the whole detector 45 % slower in the benchmark, and
 * OpenCV's halving, which reads two rows and writes a quarter, was slower
 * still.
 */
void sum_rows(const cv::Mat &src, int y0, int ky, int n, uint16_t *even, uint16_t *odd)
{
    const int pairs = n / 2;
    add_row<true>(src.ptr<uint8_t>(y0), pairs, even, odd);
    for (int j = 1; j < ky; j++)
        add_row<false>(src.ptr<uint8_t>(y0 + j), pairs, even, odd);
    if (n & 1) {
        unsigned last = 0;
        for (int j = 0; j < ky; j++)
            last += src.ptr<uint8_t>(y0 + j)[n - 1];
        even[pairs] = (uint16_t)last;
    }
}

/*
 * Replace v[0..n) by the sums of its runs of `k` (k in 2..4 vectorised, any
 * other k by the plain loop), in place: v[i] = v[k i] + ... + v[k i + k - 1]
 * for i < n / k. In place is safe: each group of sums is written below the
 * values it was read from. Returns n / k.
 */
int sum_runs(uint16_t *v, int n, int k)
{
    const int out = n / k;
    int i = 0;
#if CW_BOX_SIMD
    const int lanes = cv::v_uint16x8::nlanes;
    for (; k >= 2 && k <= 4 && i + lanes <= out; i += lanes) {
        cv::v_uint16x8 a, b, c, d;
        if (k == 2) {
            cv::v_load_deinterleave(v + (size_t)i * 2, a, b);
            a += b;
        } else if (k == 3) {
            cv::v_load_deinterleave(v + (size_t)i * 3, a, b, c);
            a += b + c;
        } else {
            cv::v_load_deinterleave(v + (size_t)i * 4, a, b, c, d);
            a += b + c + d;
        }
        cv::v_store(v + i, a);
    }
#endif
    for (; i < out; i++) {
        unsigned sum = 0;
        for (int j = 0; j < k; j++)
            sum += v[(size_t)i * k + j];
        v[i] = (uint16_t)sum;
    }
    return out;
}

/*
 * d[i] = (sums[i] + area / 2) / area, for i < n (area <= 256). The vector
 * path divides in float: (sum + area / 2 + 0.5) / area is at least 0.5 /
 * area away from a whole number, and the float error, under 2^-15, cannot
 * cross one, so truncating it gives the integer quotient exactly.
 */
void divide_sums(const uint16_t *sums, int n, uint32_t area, uint8_t *d)
{
    int i = 0;
#if CW_BOX_SIMD
    const int lanes = cv::v_uint16x8::nlanes;
    const cv::v_float32x4 bias = cv::v_setall_f32((float)(area / 2) + 0.5f);
    const cv::v_float32x4 scale = cv::v_setall_f32(1.0f / (float)area);
    for (; i + lanes <= n; i += lanes) {
        cv::v_uint32x4 lo, hi;
        cv::v_expand(cv::v_load(sums + i), lo, hi);
        const cv::v_int32x4 qlo =
            cv::v_trunc((cv::v_cvt_f32(cv::v_reinterpret_as_s32(lo)) + bias) * scale);
        const cv::v_int32x4 qhi =
            cv::v_trunc((cv::v_cvt_f32(cv::v_reinterpret_as_s32(hi)) + bias) * scale);
        cv::v_pack_u_store(d + i, cv::v_pack(qlo, qhi));
    }
#endif
    for (; i < n; i++)
        d[i] = (uint8_t)((sums[i] + area / 2) / area);
}

/*
 * The mean of each kx x ky block of `src` (kx, ky in [1, kMaxBoxFactor])
 * into `dst`, src.cols / kx by src.rows / ky: the exact area average,
 * rounded to nearest. A last partial block is dropped (fewer than kx
 * columns or ky rows at the edge).
 */
void box_reduce(CwMotion *m, const cv::Mat &src, int kx, int ky, cv::Mat &dst)
{
    const int out_w = src.cols / kx, out_h = src.rows / ky, used_w = out_w * kx;
    const int half = used_w / 2 + 1;
    dst.create(out_h, out_w, CV_8U);
    m->column_sums.resize((size_t)(2 * half + used_w));
    uint16_t *even = m->column_sums.data(), *odd = even + half, *columns = odd + half;
    for (int oy = 0; oy < out_h; oy++) {
        uint16_t *v;
        int n, left;
        if (kx % 2 == 0) {
            /* Pairs of columns (used_w is even), then runs of kx / 2 pairs. */
            n = used_w / 2;
            add_row_pairs<true>(src.ptr<uint8_t>(oy * ky), n, even);
            for (int j = 1; j < ky; j++)
                add_row_pairs<false>(src.ptr<uint8_t>(oy * ky + j), n, even);
            v = even;
            left = kx / 2;
        } else {
            sum_rows(src, oy * ky, ky, used_w, even, odd);
            /* An odd factor: the columns back in order. */
            n = used_w;
            int i = 0;
#if CW_BOX_SIMD
            for (; i + cv::v_uint16x8::nlanes <= n / 2; i += cv::v_uint16x8::nlanes) {
                cv::v_uint16x8 a, b;
                cv::v_zip(cv::v_load(even + i), cv::v_load(odd + i), a, b);
                cv::v_store(columns + 2 * i, a);
                cv::v_store(columns + 2 * i + cv::v_uint16x8::nlanes, b);
            }
#endif
            for (; i < n / 2; i++) {
                columns[2 * i] = even[i];
                columns[2 * i + 1] = odd[i];
            }
            if (n & 1)
                columns[n - 1] = even[n / 2];
            v = columns;
            left = kx;
        }
        /* Runs of 4, 3 and 2 while `left` has such factors (6 = 2 x 3:
         * pairs, then runs of 3 pairs), then whatever is left. */
        for (int f = 4; f >= 2; f--)
            while (left % f == 0) {
                n = sum_runs(v, n, f);
                left /= f;
            }
        if (left > 1)
            sum_runs(v, n, left);
        divide_sums(v, out_w, (uint32_t)(kx * ky), dst.ptr<uint8_t>(oy));
    }
}

/* Scale `full` to `target` into m->small (see step 1 at the top). */
void scale_down(CwMotion *m, const cv::Mat &full, cv::Size target)
{
    const int kx = std::min(kMaxBoxFactor, full.cols / target.width);
    const int ky = std::min(kMaxBoxFactor, full.rows / target.height);
    if (kx == 1 && ky == 1) {
        /* Less than twice the target (or the target itself: a copy). */
        cv::resize(full, m->small, target, 0, 0, cv::INTER_AREA);
        return;
    }
    cv::Mat &boxed = full.cols / kx == target.width && full.rows / ky == target.height
                         ? m->small /* an exact factor: the average is the picture */
                         : m->boxed;
    box_reduce(m, full, kx, ky, boxed);
    if (&boxed == &m->small)
        return;
    /* What is left is under 2 unless the frame is over 16 times the target
     * (an 8K frame analysed at 320): area averaging then, as it must. */
    const bool small_step = boxed.cols < 2 * target.width && boxed.rows < 2 * target.height;
    cv::resize(boxed, m->small, target, 0, 0, small_step ? cv::INTER_LINEAR : cv::INTER_AREA);
}

void forget_background(CwMotion *m)
{
    m->frame_width = 0;
    m->frame_height = 0;
    m->phase = Phase::Learning;
    m->learned = 0;
    m->settle_left = 0;
    m->after_light = false;
    m->have_view = false;
    m->have_noise = false;
    m->noise_sigma = 0;
}

/* Phase after a settling frame, once `settle_left` reached 0. */
void settle_step(CwMotion *m)
{
    if (m->settle_left > 0)
        m->settle_left--;
    if (m->settle_left == 0)
        m->phase = Phase::Watching;
}

/* The mask's polygons at the analysed size (`masked`, `allowed`); no mask
 * leaves both empty. */
void rasterise_mask(CwMotion *m)
{
    if (!m->have_mask) {
        m->masked.release();
        m->allowed.release();
        return;
    }
    const int shift = 4; /* fillPoly's fixed point: 1/16 pixel */
    const double one = 1 << shift;
    m->masked.create(m->blurred.size(), CV_8U);
    m->masked.setTo(0);
    std::vector<cv::Point> pts;
    for (int i = 0; i < m->mask_polygons.count; i++) {
        const CwPolygon &p = m->mask_polygons.polygons[i];
        pts.clear();
        for (int k = 0; k < p.count; k++)
            pts.emplace_back((int)std::lround(p.points[k].x * m->masked.cols * one),
                             (int)std::lround(p.points[k].y * m->masked.rows * one));
        const cv::Point *poly = pts.data();
        int n = (int)pts.size();
        cv::fillPoly(m->masked, &poly, &n, 1, cv::Scalar(255), cv::LINE_8, shift);
    }
    cv::bitwise_not(m->masked, m->allowed);
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
    m->have_noise = false; /* measured against a background that is gone */
    m->phase = Phase::Learning;
    m->settle_left = std::max(0, m->params.warmup_frames - 1);
    if (m->settle_left == 0)
        m->phase = Phase::Watching;
}

int sample_step(const cv::Mat &img)
{
    return std::max(1, (int)std::lround(std::sqrt((double)img.total() / kTargetSamples)));
}

/* Median (interpolated within its level) of a histogram of `total` counts. */
double hist_median(const uint32_t *h, int span, uint32_t total)
{
    double half = total / 2.0;
    uint32_t seen = 0;
    for (int v = 0; v < span; v++) {
        if (h[v] && seen + h[v] >= half)
            return v - 0.5 + (half - seen) / h[v];
        seen += h[v];
    }
    return span - 1;
}

/* Median absolute deviation around integer index `center` of a histogram. */
double hist_mad(const uint32_t *h, int span, uint32_t total, int center)
{
    uint32_t seen = center >= 0 && center < span ? h[center] : 0;
    for (int r = 1; r < span; r++) {
        if (seen * 2 >= total)
            return r - 1;
        if (center - r >= 0)
            seen += h[center - r];
        if (center + r < span)
            seen += h[center + r];
    }
    return span;
}

/* Pool adjacent violators: make the points' y non-decreasing, weighted. */
void make_monotone(std::vector<CurvePoint> &pts)
{
    /* Blocks are merged in place: each keeps its weighted mean y, its total
     * weight and the range of points it covers. */
    struct Block {
        double y, w;
        size_t first, last;
    };
    std::vector<Block> blocks;
    blocks.reserve(pts.size());
    for (size_t i = 0; i < pts.size(); i++) {
        blocks.push_back({pts[i].y, pts[i].w, i, i});
        while (blocks.size() > 1 && blocks[blocks.size() - 2].y > blocks.back().y) {
            Block b = blocks.back();
            blocks.pop_back();
            Block &a = blocks.back();
            a.y = (a.y * a.w + b.y * b.w) / (a.w + b.w);
            a.w += b.w;
            a.last = b.last;
        }
    }
    for (const Block &b : blocks)
        for (size_t i = b.first; i <= b.last; i++)
            pts[i].y = b.y;
}

/* What fit_lighting() found. */
struct Lighting {
    bool identity;       /* the curve is (nearly) the identity: not applied */
    double gain, offset; /* straight-line summary */
};

/*
 * Fit the tone curve from background8 to the blurred frame on a subsample
 * (outside the mask) into m->lut and m->points. Leaves each band's histogram
 * of differences in band_hist, for lost_bands().
 */
Lighting fit_lighting(CwMotion *m)
{
    Lighting L = {true, 1.0, 0.0};
    const int step = sample_step(m->blurred);
    uint32_t count[kBands] = {0};
    uint64_t level_sum[kBands] = {0};
    uint32_t total = 0;

    std::fill(m->band_hist.begin(), m->band_hist.end(), 0);
    for (int y = step / 2; y < m->blurred.rows; y += step) {
        const uint8_t *b = m->background8.ptr<uint8_t>(y);
        const uint8_t *f = m->blurred.ptr<uint8_t>(y);
        const uint8_t *hidden = m->have_mask ? m->masked.ptr<uint8_t>(y) : nullptr;
        for (int x = step / 2; x < m->blurred.cols; x += step) {
            if (hidden && hidden[x])
                continue;
            int band = b[x] >> kBandShift;
            m->band_hist[(size_t)band * kDiffSpan + (size_t)(f[x] - b[x] + 255)]++;
            count[band]++;
            level_sum[band] += b[x];
            total++;
        }
    }
    for (int i = 0; i < 256; i++)
        m->lut[i] = (float)i;
    if (total == 0)
        return L;

    const uint32_t trusted = std::max<uint32_t>(kMinBandSamples, (uint32_t)(kMinBandShare * total));
    m->points.clear();
    for (int band = 0; band < kBands; band++) {
        if (count[band] < trusted)
            continue;
        const uint32_t *h = &m->band_hist[(size_t)band * kDiffSpan];
        double med = hist_median(h, kDiffSpan, count[band]) - 255;
        double x = (double)level_sum[band] / count[band];
        m->points.push_back({x, x + med, (double)count[band], band});
    }
    if (m->points.empty())
        return L;
    make_monotone(m->points);

    double largest = 0;
    for (const CurvePoint &p : m->points)
        largest = std::max(largest, std::fabs(p.y - p.x));
    if (largest < kIdentityLevels)
        return L;
    L.identity = false;

    /* The table: linear between points, the nearest point's shift beyond. */
    const std::vector<CurvePoint> &pts = m->points;
    size_t k = 0;
    for (int level = 0; level < 256; level++) {
        double v;
        while (k + 1 < pts.size() && pts[k + 1].x <= level)
            k++;
        if (level <= pts.front().x)
            v = level + pts.front().y - pts.front().x;
        else if (level >= pts.back().x)
            v = level + pts.back().y - pts.back().x;
        else
            v = pts[k].y +
                (pts[k + 1].y - pts[k].y) * (level - pts[k].x) / (pts[k + 1].x - pts[k].x);
        m->lut[level] = (float)std::min(255.0, std::max(0.0, v));
    }

    /* The straight-line summary: weighted least squares through the points. */
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const CurvePoint &p : pts) {
        sw += p.w;
        sx += p.w * p.x;
        sy += p.w * p.y;
        sxx += p.w * p.x * p.x;
        sxy += p.w * p.x * p.y;
    }
    double var = sxx / sw - (sx / sw) * (sx / sw);
    if (var > 1e-6) {
        L.gain = (sxy / sw - (sx / sw) * (sy / sw)) / var;
        L.offset = sy / sw - L.gain * sx / sw;
    } else {
        L.offset = sy / sw - sx / sw;
    }
    return L;
}

/*
 * The noise's robust sigma: MAD of blurred frame minus relit background over
 * the subsample (outside the mask), in levels. People and lighting edges are
 * outliers a median ignores.
 */
double measure_noise(CwMotion *m)
{
    const int step = sample_step(m->blurred);
    uint32_t total = 0;
    std::fill(m->noise_hist.begin(), m->noise_hist.end(), 0);
    for (int y = step / 2; y < m->blurred.rows; y += step) {
        const uint8_t *f = m->blurred.ptr<uint8_t>(y);
        const float *bf = m->background.ptr<float>(y);
        const uint8_t *hidden = m->have_mask ? m->masked.ptr<uint8_t>(y) : nullptr;
        for (int x = step / 2; x < m->blurred.cols; x += step) {
            if (hidden && hidden[x])
                continue;
            /* The float background: its fractions are finer than a level.
             * Shifted positive, so truncation rounds (lround costs a call). */
            int q = (int)((f[x] - bf[x] + 255.0f) * kNoiseScale + 0.5f);
            m->noise_hist[(size_t)std::min(kNoiseSpan - 1, std::max(0, q))]++;
            total++;
        }
    }
    if (total == 0)
        return 0;
    double med = hist_median(m->noise_hist.data(), kNoiseSpan, total);
    double mad = hist_mad(m->noise_hist.data(), kNoiseSpan, total, (int)std::lround(med));
    /* A MAD in whole quarter levels: half a step is the resolution. */
    return kMadToSigma * (mad + 0.5) / kNoiseScale;
}

/* Relight the float background through m->lut, keeping its fractions. */
void relight_background(CwMotion *m)
{
    /* The background is an average of levels and of table entries, so it
     * stays within [0, 255]: a 257th entry covers 255.0 itself, and the
     * loop needs no clamp. */
    float base[257], slope[257];
    for (int i = 0; i < 256; i++) {
        base[i] = m->lut[i];
        slope[i] = i < 255 ? m->lut[i + 1] - m->lut[i] : 0;
    }
    base[256] = m->lut[255];
    slope[256] = 0;
    for (int y = 0; y < m->background.rows; y++) {
        float *p = m->background.ptr<float>(y);
        for (int x = 0; x < m->background.cols; x++) {
            int i = (int)p[x];
            p[x] = base[i] + (p[x] - (float)i) * slope[i];
        }
    }
}

/* Bands whose differences spread far beyond the others' (see the top). */
uint32_t lost_bands(CwMotion *m, int threshold)
{
    double mad[kBands];
    int bands[kBands], n = 0;
    for (const CurvePoint &p : m->points) {
        const uint32_t *h = &m->band_hist[(size_t)p.band * kDiffSpan];
        uint32_t count = (uint32_t)p.w;
        double med = hist_median(h, kDiffSpan, count);
        mad[n] = hist_mad(h, kDiffSpan, count, (int)std::lround(med));
        bands[n++] = p.band;
    }
    if (n < 3)
        return 0; /* too few bands to tell one from the others */
    double sorted[kBands];
    std::copy(mad, mad + n, sorted);
    std::nth_element(sorted, sorted + n / 2, sorted + n);
    const double limit = std::max(kLostBandSpread * std::max(1.0, sorted[n / 2]), threshold / 3.0);
    uint32_t lost = 0;
    for (int i = 0; i < n; i++)
        if (mad[i] > limit)
            lost |= 1u << bands[i];
    return lost;
}

/*
 * Compare the blurred frame with the (relit) background, background8, which
 * the caller keeps current: fills diff and mask (outside the user's mask);
 * returns the changed share in percent.
 */
double compare(CwMotion *m, int threshold)
{
    const size_t changed = cw::difference(m->blurred, m->background8, threshold,
                                          m->have_mask ? m->allowed : cv::Mat(), m->diff, m->mask);
    return (double)changed * 100.0 / (double)m->mask.total();
}

/*
 * Is the region inside m->contours[contour] (its box `r`) lighting of its
 * own (see the top)? If so, relight its changed pixels in the background,
 * take it out of the dilated mask and return true.
 */
bool region_is_lighting(CwMotion *m, int contour, const cv::Rect &r, int threshold)
{
    std::vector<float> &bv = m->region_b, &fv = m->region_f, &res = m->region_res;
    if (m->regions.size() != m->dilated.size())
        m->regions.create(m->dilated.size(), CV_8U);
    cv::Mat region = m->regions(cv::Rect(cv::Point(0, 0), r.size()));
    region.setTo(0);
    cv::drawContours(region, m->contours, contour, cv::Scalar(255), cv::FILLED, cv::LINE_8,
                     cv::noArray(), INT_MAX, cv::Point(-r.x, -r.y));

    /* About kRegionSamples pixels are enough for a straight line. */
    const int step = std::max(1, (int)std::lround(std::sqrt((double)r.area() / kRegionSamples)));
    bv.clear();
    fv.clear();
    for (int y = r.y; y < r.y + r.height; y += step) {
        const uint8_t *inside = region.ptr<uint8_t>(y - r.y);
        const uint8_t *changed = m->mask.ptr<uint8_t>(y);
        const uint8_t *b = m->background8.ptr<uint8_t>(y);
        const uint8_t *f = m->blurred.ptr<uint8_t>(y);
        for (int x = r.x; x < r.x + r.width; x += step) {
            if (inside[x - r.x] && changed[x]) {
                bv.push_back(b[x]);
                fv.push_back(f[x]);
            }
        }
    }
    const size_t n = bv.size();
    if (n < 16)
        return false;

    /* Least squares, then twice again on the points within 3 robust sigmas
     * of the line: a person in a lit region is the outlier. */
    double a = 1, c = 0, sb = 0;
    double inlier_limit = 1e30;
    for (int pass = 0; pass < 3; pass++) {
        double s0 = 0, s1 = 0, s2 = 0, t1 = 0, st = 0;
        for (size_t i = 0; i < n; i++) {
            if (pass > 0 && std::fabs(fv[i] - (a * bv[i] + c)) > inlier_limit)
                continue;
            s0 += 1;
            s1 += bv[i];
            s2 += (double)bv[i] * bv[i];
            t1 += fv[i];
            st += (double)bv[i] * fv[i];
        }
        if (s0 < 16)
            return false;
        double var_b = s2 / s0 - (s1 / s0) * (s1 / s0);
        sb = std::sqrt(std::max(0.0, var_b));
        if (sb < kRegionMinTexture)
            return false; /* flat: the fit could explain a grey coat */
        a = (st / s0 - (s1 / s0) * (t1 / s0)) / var_b;
        c = t1 / s0 - a * s1 / s0;
        res.resize(n);
        for (size_t i = 0; i < n; i++)
            res[i] = std::fabs(fv[i] - (float)(a * bv[i] + c));
        std::nth_element(res.begin(), res.begin() + (long)(n / 2), res.end());
        inlier_limit = std::max(3.0 * kMadToSigma * res[n / 2], 3.0 * m->noise_sigma + 1.0);
    }
    if (a < kRegionMinGain || a > kRegionMaxGain)
        return false;

    const double tolerance = std::max(threshold / 2.0, 3.0 * m->noise_sigma);
    double explained = 0, ss_res = 0, ss_tot = 0, mean_f = 0;
    for (size_t i = 0; i < n; i++)
        mean_f += fv[i];
    mean_f /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = fv[i] - (a * bv[i] + c);
        if (std::fabs(e) <= tolerance) {
            explained++;
            ss_res += e * e;
            ss_tot += (fv[i] - mean_f) * (fv[i] - mean_f);
        }
    }
    if (explained < kRegionExplained * (double)n)
        return false;
    if (ss_tot > 0 && 1.0 - ss_res / ss_tot < kRegionMinR2)
        return false;

    /* Lighting: its changed pixels take the new light at once. */
    for (int y = r.y; y < r.y + r.height; y++) {
        const uint8_t *inside = region.ptr<uint8_t>(y - r.y);
        const uint8_t *changed = m->mask.ptr<uint8_t>(y);
        float *bg = m->background.ptr<float>(y);
        uint8_t *dil = m->dilated.ptr<uint8_t>(y);
        for (int x = r.x; x < r.x + r.width; x++) {
            if (!inside[x - r.x])
                continue;
            if (changed[x])
                bg[x] = (float)std::min(255.0, std::max(0.0, a * bg[x] + c));
            dil[x] = 0; /* not motion: learned at the full rate */
        }
    }
    return true;
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

/*
 * Regions of the dilated mask, all within `changed` (the rectangle around
 * its nonzero pixels), largest first, in the frame's pixels; the ones that
 * are lighting of their own are relit instead. Returns the share
 * of the picture found to be such lighting, in percent.
 */
double find_boxes(CwMotion *m, CwMotionResult *out, int threshold, const cv::Rect &changed)
{
    const double pixels = (double)m->dilated.total();
    const double min_area = m->params.min_area_percent * pixels / 100.0;
    double lit = 0;

    /* External contours, as a region's outline: labelling every pixel
     * (connectedComponentsWithStats) costs 0.35 ms at 320x180, the contours
     * 0.06 ms over the whole picture. They are found within the rectangle
     * around the changed pixels: the scan costs the pixels it reads, and
     * that rectangle is a third of the picture on average with people
     * walking. Only the few regions large enough are filled in, for the
     * lighting test. */
    if (changed.empty())
        m->contours.clear(); /* else findContours resizes it, keeping the point vectors */
    else
        cv::findContours(m->dilated(changed), m->contours, cv::RETR_EXTERNAL,
                         cv::CHAIN_APPROX_SIMPLE, changed.tl());
    m->rects.clear();
    for (size_t i = 0; i < m->contours.size(); i++) {
        const std::vector<cv::Point> &c = m->contours[i];
        /* contourArea measures the polygon through the boundary pixels'
         * centres, which misses half of each boundary pixel: a blob of a few
         * pixels would measure 0. Pick's theorem gives the pixel count. */
        double area = cv::contourArea(c) + cv::arcLength(c, true) / 2 + 1;
        if (area < min_area)
            continue;
        cv::Rect r = cv::boundingRect(c);
        if (region_is_lighting(m, (int)i, r, threshold)) {
            lit += area;
            continue;
        }
        m->rects.push_back(r);
    }
    int gap = std::max(1, (int)(m->dilated.cols * kMergeGapFraction));
    merge_rects(m->rects, gap);
    std::sort(m->rects.begin(), m->rects.end(),
              [](const cv::Rect &a, const cv::Rect &b) { return a.area() > b.area(); });

    const double sx = (double)m->frame_width / m->dilated.cols;
    const double sy = (double)m->frame_height / m->dilated.rows;
    int count = (int)std::min<size_t>(m->rects.size(), CW_MAX_BOXES);
    for (int i = 0; i < count; i++) {
        const cv::Rect &r = m->rects[(size_t)i];
        /* Outward rounding: the full-size box covers every full-size pixel
         * that went into the small one. */
        uint16_t x0 = scale_coord(std::floor(r.x * sx), m->frame_width);
        uint16_t y0 = scale_coord(std::floor(r.y * sy), m->frame_height);
        uint16_t x1 = scale_coord(std::ceil((r.x + r.width) * sx), m->frame_width);
        uint16_t y1 = scale_coord(std::ceil((r.y + r.height) * sy), m->frame_height);
        out->boxes[i] = CwBox{x0, y0, (uint16_t)(x1 - x0), (uint16_t)(y1 - y0)};
    }
    out->box_count = count;
    out->motion = count > 0;
    return lit * 100.0 / pixels;
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

/* Learn the pixels of the lost bands from the frame at once, by the bands of
 * the background before the relighting (prior8). */
void relearn_bands(CwMotion *m, uint32_t lost)
{
    for (int y = 0; y < m->background.rows; y++) {
        const uint8_t *b = m->prior8.ptr<uint8_t>(y);
        const uint8_t *f = m->blurred.ptr<uint8_t>(y);
        float *bg = m->background.ptr<float>(y);
        for (int x = 0; x < m->background.cols; x++)
            if (lost & (1u << (b[x] >> kBandShift)))
                bg[x] = f[x];
    }
}

/*
 * After a lighting change: the changed pixels whose background was in the
 * darkest or brightest trusted band had clipped (see the top); learn them
 * from the frame and take them out of the changed mask. Returns the share of
 * the picture they are, in percent.
 */
double relearn_clipped(CwMotion *m)
{
    if (m->points.empty())
        return 0;
    const int low = m->points.front().band, high = m->points.back().band;
    size_t count = 0;
    for (int y = 0; y < m->mask.rows; y++) {
        const uint8_t *b = m->prior8.ptr<uint8_t>(y);
        const uint8_t *f = m->blurred.ptr<uint8_t>(y);
        uint8_t *changed = m->mask.ptr<uint8_t>(y);
        float *bg = m->background.ptr<float>(y);
        for (int x = 0; x < m->mask.cols; x++) {
            int band = b[x] >> kBandShift;
            if (changed[x] && (band == low || band == high)) {
                bg[x] = f[x];
                changed[x] = 0;
                count++;
            }
        }
    }
    if (count)
        m->background.convertTo(m->background8, CV_8U);
    return count * 100.0 / (double)m->mask.total();
}

/* The pictures of a frame that only taught the background, for the view. */
void learning_view(CwMotion *m)
{
    m->background.convertTo(m->background8, CV_8U);
    cv::absdiff(m->blurred, m->background8, m->diff);
    m->mask.create(m->blurred.size(), CV_8U);
    m->mask.setTo(0);
    m->have_view = true;
}

/* Share of the picture (in percent) that the curve moved by at least `levels`. */
double moved_percent(const CwMotion *m, double levels)
{
    double moved = 0, all = 0;
    for (const CurvePoint &p : m->points) {
        all += p.w;
        if (std::fabs(p.y - p.x) >= levels)
            moved += p.w;
    }
    return all > 0 ? moved * 100.0 / all : 0;
}

int threshold_for(const CwMotion *m)
{
    double scaled = m->have_noise ? std::ceil(m->params.noise_factor * m->noise_sigma) : 0;
    return (int)std::min(255.0, std::max((double)m->params.threshold, scaled));
}

int process(CwMotion *m, CwMotionResult *out)
{
    cw::blur5(m->small, m->blurred, m->filters);
    out->analysed_width = m->blurred.cols;
    out->analysed_height = m->blurred.rows;
    out->light_gain = 1;

    if (m->learned > 0 &&
        (m->staged_width != m->frame_width || m->staged_height != m->frame_height))
        forget_background(m); /* another picture: the old background means nothing */
    if (m->have_mask && m->masked.size() != m->blurred.size())
        rasterise_mask(m);
    out->threshold_used = threshold_for(m);
    if (m->learned == 0) {
        seed_background(m, false);
        learning_view(m);
        out->warming_up = 1;
        return 0;
    }
    if (m->phase == Phase::Learning) {
        /* The mean of the warm-up frames rather than the last one: someone
         * walking through during the warm-up is averaged down to a faint
         * trace instead of being painted into the background. */
        m->learned++;
        cv::accumulateWeighted(m->blurred, m->background, 1.0 / m->learned);
        settle_step(m);
        learning_view(m);
        out->warming_up = 1;
        out->light_change = m->after_light;
        return 0;
    }

    /* Lighting, fitted on the background as it was; the background relit;
     * the noise measured against it, before anything is learned from this
     * frame (pixels learned from it would look noiseless). Then whether the
     * lighting changed, and which bands it left unpredictable. */
    m->background.convertTo(m->background8, CV_8U);
    Lighting light = fit_lighting(m);
    if (!light.identity) {
        m->background8.copyTo(m->prior8);
        relight_background(m);
        m->background.convertTo(m->background8, CV_8U);
    }
    double sigma = measure_noise(m);
    if (!m->have_noise || sigma > m->noise_sigma)
        m->noise_sigma = sigma;
    else
        m->noise_sigma += kNoiseFall * (sigma - m->noise_sigma);
    m->have_noise = true;
    int threshold = threshold_for(m);
    double moved = light.identity ? 0 : moved_percent(m, threshold / 2.0);
    bool global_change = moved >= kLightChangeShare * 100.0;
    uint32_t lost = global_change ? lost_bands(m, threshold) : 0;
    if (lost) {
        relearn_bands(m, lost);
        m->background.convertTo(m->background8, CV_8U);
    }
    out->threshold_used = threshold;
    out->noise_sigma = (float)m->noise_sigma;
    out->light_gain = (float)light.gain;
    out->light_offset = (float)light.offset;

    out->changed_percent = (float)compare(m, threshold);
    double clipped = 0;
    if (global_change) {
        clipped = relearn_clipped(m);
        out->changed_percent = std::max(0.0f, out->changed_percent - (float)clipped);
    }
    m->have_view = true;
    if (out->changed_percent >= m->params.light_change_percent) {
        /* More than any lighting explains: a new scene, learned again. */
        seed_background(m, true);
        out->light_change = 1;
        out->warming_up = 1;
        out->light_percent = out->changed_percent;
        return 0;
    }
    bool anything_changed = out->changed_percent > 0;
    double lit = 0;
    if (anything_changed) {
        const cv::Rect changed =
            cw::dilate_square(m->mask, m->dilated, kDilateIterations, m->filters);
        lit = find_boxes(m, out, threshold, changed);
    }
    out->light_percent = (float)std::min(100.0, moved + clipped + lit);
    out->light_change = global_change || lit > 0;
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
        if (m->params.noise_factor == 0)
            m->params.noise_factor = kDefaultNoiseFactor;
        m->rects.reserve(64);
        m->contours.reserve(64);
        m->points.reserve(kBands);
        m->band_hist.resize((size_t)kBands * kDiffSpan);
        m->noise_hist.resize(kNoiseSpan);
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
    m->have_view = false;
    try {
        /* A header over the caller's memory: no copy, and OpenCV only reads
         * through a const source. */
        const cv::Mat full(height, width, CV_8UC1, const_cast<uint8_t *>(luma), (size_t)linesize);
        scale_down(m, full, analysed_size(&m->params, width, height));
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

int cw_motion_set_mask(CwMotion *m, const CwPolygonSet *mask)
{
    if (!m)
        return -EINVAL;
    try {
        m->have_mask = mask && mask->count > 0;
        if (m->have_mask)
            m->mask_polygons = *mask;
        if (!m->blurred.empty())
            rasterise_mask(m);
    } catch (const cv::Exception &e) {
        m->have_mask = false;
        return errno_of(e);
    } catch (...) {
        m->have_mask = false;
        return -ENOMEM;
    }
    return 0;
}

int cw_motion_view(const CwMotion *m, CwMotionView *v)
{
    std::memset(v, 0, sizeof(*v));
    if (!m || !m->have_view)
        return -EAGAIN;
    v->width = m->blurred.cols;
    v->height = m->blurred.rows;
    v->linesize = (int)m->blurred.step;
    /* Every picture is a continuous 8-bit one of this size and step. */
    v->frame = m->small.ptr<uint8_t>(0);
    v->background = m->background8.ptr<uint8_t>(0);
    v->difference = m->diff.ptr<uint8_t>(0);
    v->changed = m->mask.ptr<uint8_t>(0);
    v->mask = m->have_mask ? m->masked.ptr<uint8_t>(0) : nullptr;
    return 0;
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
