#pragma once
/// \file Per-image transforms from uint8 CHW to float CHW at a chosen output resolution: centre
/// crop, random crop with zero padding, random-resized-crop, bilinear resize, horizontal flip,
/// per-channel normalisation and 1→3 channel replication.
///
/// Order (MOEA/NAT CIFAR provider, nat_spec.md §5.2): centre crop → random crop (padding p) →
/// random-resized-crop → resize to R×R → horizontal flip → normalise. All the geometry is composed
/// into one crop window in source coordinates (pixels outside the image read as 0, which is what
/// zero padding gives), then that window is resampled once with PyTorch's bilinear
/// `F.interpolate(..., align_corners=False, antialias=False)` rule. Resampling the window directly
/// gives exactly what the chain of torchvision ops would: crops only select pixels, and bilinear
/// sampling clamps at the edges of the cropped image, which is the window.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/data/image_dataset.hpp"

namespace nat::data {

/// One image pipeline (train or eval). Defaults: no augmentation, pixels scaled to [0, 1].
struct image_transform {
  /// Centre crop keeping this fraction of the height and width, before anything else (eval
  /// pipelines: 0.875 is ImageNet's 224/256). 1 = off. Size round(f·H); offset as torchvision's
  /// CenterCrop: round((H − h)/2).
  double center_crop_fraction = 1.0;
  /// Random crop of the (centre-cropped) image's own size out of the image zero-padded by
  /// `random_crop_padding` pixels on each side (torchvision RandomCrop(size, padding)).
  bool random_crop = false;
  std::size_t random_crop_padding = 0;  ///< Zero padding for random_crop, pixels per side.
  /// torchvision RandomResizedCrop: area fraction in [scale_min, scale_max], aspect ratio
  /// log-uniform in [ratio_min, ratio_max], up to 10 attempts, then a centre-crop fallback.
  bool random_resized_crop = false;
  double scale_min = 0.08;       ///< Smallest area fraction for random_resized_crop.
  double scale_max = 1.0;        ///< Largest area fraction for random_resized_crop.
  double ratio_min = 3.0 / 4.0;  ///< Smallest aspect ratio (w/h) for random_resized_crop.
  double ratio_max = 4.0 / 3.0;  ///< Largest aspect ratio (w/h) for random_resized_crop.
  /// Mirror left-right with probability 1/2 (leave off for digits and text).
  bool horizontal_flip = false;
  /// Random erasing (Zhong et al., AAAI 2020; torchvision RandomErasing with value 0): with this
  /// probability one rectangle of the finished, normalised output is set to 0 (the data set's
  /// mean). 0 = off. Area fraction uniform in [erasing_scale_min, erasing_scale_max], aspect
  /// ratio (h/w) log-uniform in [erasing_ratio_min, erasing_ratio_max], up to 10 attempts to fit.
  double random_erasing = 0.0;
  double erasing_scale_min = 0.02;  ///< Smallest erased area fraction.
  double erasing_scale_max = 0.33;  ///< Largest erased area fraction.
  double erasing_ratio_min = 0.3;   ///< Smallest erased aspect ratio (h/w).
  double erasing_ratio_max = 3.3;   ///< Largest erased aspect ratio (h/w).
  /// Per-channel mean and standard deviation in [0, 1] units: out = (v/255 − mean)/std. Empty =
  /// no normalisation (out = v/255). One value applies to every channel; otherwise one per output
  /// channel.
  std::vector<float> mean, std;
  /// Output channels: 0 = as the input; 3 with a 1-channel input replicates the grey channel (for
  /// supernets with a 3-channel stem).
  std::size_t out_channels = 0;

  /// Channels produced for an input with `in_channels`; config_error when impossible.
  std::size_t output_channels(std::size_t in_channels) const {
    if (out_channels == 0 || out_channels == in_channels) return in_channels;
    if (in_channels == 1) return out_channels;
    throw config_error("image_transform: cannot turn " + std::to_string(in_channels) +
                       " channels into " + std::to_string(out_channels) +
                       " (only 1-channel images can be replicated)");
  }

  /// Checks the settings for images with `in_channels`; config_error naming the bad field.
  void validate(std::size_t in_channels) const {
    const std::string who = "image_transform::validate: ";
    const std::size_t oc = output_channels(in_channels);
    if (!(center_crop_fraction > 0.0 && center_crop_fraction <= 1.0))
      throw config_error(who + "center_crop_fraction must be in (0, 1], got " +
                         std::to_string(center_crop_fraction));
    if (random_resized_crop) {
      if (!(scale_min > 0.0 && scale_min <= scale_max && scale_max <= 1.0))
        throw config_error(who + "need 0 < scale_min <= scale_max <= 1, got [" +
                           std::to_string(scale_min) + ", " + std::to_string(scale_max) + "]");
      if (!(ratio_min > 0.0 && ratio_min <= ratio_max))
        throw config_error(who + "need 0 < ratio_min <= ratio_max, got [" +
                           std::to_string(ratio_min) + ", " + std::to_string(ratio_max) + "]");
    }
    if (!(random_erasing >= 0.0 && random_erasing <= 1.0))
      throw config_error(who + "random_erasing must be a probability in [0, 1], got " +
                         std::to_string(random_erasing));
    if (random_erasing > 0.0) {
      if (!(erasing_scale_min > 0.0 && erasing_scale_min <= erasing_scale_max &&
            erasing_scale_max < 1.0))
        throw config_error(who + "need 0 < erasing_scale_min <= erasing_scale_max < 1, got [" +
                           std::to_string(erasing_scale_min) + ", " +
                           std::to_string(erasing_scale_max) + "]");
      if (!(erasing_ratio_min > 0.0 && erasing_ratio_min <= erasing_ratio_max))
        throw config_error(who + "need 0 < erasing_ratio_min <= erasing_ratio_max, got [" +
                           std::to_string(erasing_ratio_min) + ", " +
                           std::to_string(erasing_ratio_max) + "]");
    }
    if (mean.size() != std.size())
      throw config_error(who + "mean has " + std::to_string(mean.size()) + " values, std has " +
                         std::to_string(std.size()));
    if (!mean.empty() && mean.size() != 1 && mean.size() != oc)
      throw config_error(who + "mean/std need 1 or " + std::to_string(oc) + " values, got " +
                         std::to_string(mean.size()));
    for (float s : std)
      if (!(s > 0.0f))
        throw config_error(who + "std values must be positive, got " + std::to_string(s));
  }
};

/// The train and eval pipelines of a task.
struct transform_config {
  image_transform train;  ///< Used by loaders with train = true (and BN recalibration).
  image_transform eval;   ///< Used for validation and test.
};

/// NAT's pipelines for a small-image task (MOEA CIFAR provider, nat_spec.md §5.2–5.3, without
/// AutoAugment/CutMix): train = random crop with zero padding round(H/8) (4 at 28–32 px, 1 for 8×8
/// digits) → random-resized-crop with scale [resize_scale, 1] and ratio 1 → optional flip →
/// normalise; eval = normalise only. Mean and std come from `ds` (channel_mean_std), replicated
/// when `out_channels` = 3 turns grey into RGB.
inline transform_config nat_transforms(const image_dataset& ds, bool horizontal_flip,
                                       std::size_t out_channels = 0, double resize_scale = 1.0);

/// A crop window in source pixel coordinates (may reach outside the image: those pixels are 0),
/// plus whether the output is mirrored.
struct crop_window {
  long top = 0;       ///< First source row (negative inside the zero padding).
  long left = 0;      ///< First source column.
  long height = 0;    ///< Rows in the window.
  long width = 0;     ///< Columns in the window.
  bool flip = false;  ///< Mirror the output left-right.
};

/// Python's round(): to nearest, ties to even (torchvision computes crop sizes with it).
inline long round_half_even(double x) { return static_cast<long>(std::nearbyint(x)); }

/// torchvision `RandomResizedCrop.get_params` on an h×w image: returns {top, left, height, width}
/// relative to that image. Draws, per attempt, the area fraction then the log-aspect-ratio (two
/// uniforms), then top and left; after 10 failed attempts the centre crop clamped to the ratio
/// range is used.
inline crop_window random_resized_crop_params(long h, long w, double scale_min, double scale_max,
                                              double ratio_min, double ratio_max, nat::rng& r) {
  const double area = double(h) * double(w);
  const double lr0 = std::log(ratio_min), lr1 = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * r.uniform(scale_min, scale_max);
    const double aspect = std::exp(r.uniform(lr0, lr1));
    const long cw = round_half_even(std::sqrt(target * aspect));
    const long ch = round_half_even(std::sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      crop_window c;
      c.top = r.uniform_int(0, h - ch);
      c.left = r.uniform_int(0, w - cw);
      c.height = ch;
      c.width = cw;
      return c;
    }
  }
  crop_window c;
  const double in_ratio = double(w) / double(h);
  if (in_ratio < ratio_min) {
    c.width = w;
    c.height = round_half_even(double(w) / ratio_min);
  } else if (in_ratio > ratio_max) {
    c.height = h;
    c.width = round_half_even(double(h) * ratio_max);
  } else {
    c.width = w;
    c.height = h;
  }
  c.top = (h - c.height) / 2;
  c.left = (w - c.width) / 2;
  return c;
}

/// Draws the geometry of `t` for an h×w image. The random draws come in a fixed order — random
/// crop offsets (top, then left), random-resized-crop, flip — so a given rng state always gives the
/// same window.
inline crop_window plan_crop(const image_transform& t, std::size_t h, std::size_t w, nat::rng& r) {
  crop_window c;
  c.height = long(h);
  c.width = long(w);
  if (t.center_crop_fraction < 1.0) {
    const long ch = std::max(1L, round_half_even(t.center_crop_fraction * double(h)));
    const long cw = std::max(1L, round_half_even(t.center_crop_fraction * double(w)));
    c.top = round_half_even(double(long(h) - ch) / 2.0);
    c.left = round_half_even(double(long(w) - cw) / 2.0);
    c.height = ch;
    c.width = cw;
  }
  if (t.random_crop) {
    const long p = long(t.random_crop_padding);
    c.top += r.uniform_int(0, 2 * p) - p;
    c.left += r.uniform_int(0, 2 * p) - p;
  }
  if (t.random_resized_crop) {
    const crop_window s = random_resized_crop_params(c.height, c.width, t.scale_min, t.scale_max,
                                                     t.ratio_min, t.ratio_max, r);
    c.top += s.top;
    c.left += s.left;
    c.height = s.height;
    c.width = s.width;
  }
  if (t.horizontal_flip) c.flip = r.bernoulli(0.5);
  return c;
}

namespace detail {
// Source taps of one output coordinate: two indices and weights. Taps outside the image get
// weight 0 and index 0, which reads a real pixel but adds nothing: zero padding without branches.
struct taps {
  std::size_t i0, i1;
  float w0, w1;
};
// PyTorch upsample_bilinear2d, align_corners=False: src = (dst + 0.5)·in/out − 0.5, clamped below
// at 0; the upper neighbour is clamped to the window's last pixel.
inline void make_taps(long start, long len, long image_len, std::size_t out_len, taps* out) {
  const float scale = float(len) / float(out_len);
  for (std::size_t o = 0; o < out_len; ++o) {
    float src = (float(o) + 0.5f) * scale - 0.5f;
    if (src < 0.0f) src = 0.0f;
    long l0 = static_cast<long>(src);
    if (l0 > len - 1) l0 = len - 1;
    const long l1 = l0 < len - 1 ? l0 + 1 : l0;
    const float lam = src - float(l0);
    const long s0 = start + l0, s1 = start + l1;
    const bool in0 = s0 >= 0 && s0 < image_len, in1 = s1 >= 0 && s1 < image_len;
    out[o].i0 = in0 ? std::size_t(s0) : 0;
    out[o].i1 = in1 ? std::size_t(s1) : 0;
    out[o].w0 = in0 ? 1.0f - lam : 0.0f;
    out[o].w1 = in1 ? lam : 0.0f;
  }
}
// Separable bilinear resampling of one plane: a horizontal pass over the source rows the vertical
// taps use, into `tmp` ((row_hi − row_lo + 1) × ow floats), then a vertical pass that blends two
// contiguous rows (vectorises). Flip is already folded into the order of `tx`.
template <class T>
void resample_plane(const T* src, std::size_t w, const taps* ty, std::size_t oh, const taps* tx,
                    std::size_t ow, std::size_t row_lo, std::size_t row_hi, float a, float b,
                    float* tmp, float* dst) {
  for (std::size_t r = row_lo; r <= row_hi; ++r) {
    const T* s = src + r * w;
    float* t = tmp + (r - row_lo) * ow;
    for (std::size_t x = 0; x < ow; ++x)
      t[x] = tx[x].w0 * float(s[tx[x].i0]) + tx[x].w1 * float(s[tx[x].i1]);
  }
  for (std::size_t y = 0; y < oh; ++y) {
    const float* t0 = tmp + (ty[y].i0 - row_lo) * ow;
    const float* t1 = tmp + (ty[y].i1 - row_lo) * ow;
    const float c0 = ty[y].w0 * a, c1 = ty[y].w1 * a;
    float* out = dst + y * ow;
    for (std::size_t x = 0; x < ow; ++x) out[x] = c0 * t0[x] + c1 * t1[x] + b;
  }
}
// Small fixed buffers cover every realistic resolution without heap allocation per image.
constexpr std::size_t max_stack_taps = 1024;
// Row buffer of the horizontal pass kept on the stack up to this many floats (28-px sources at
// up to 256 px fit); larger ones use a per-thread vector that only ever grows.
constexpr std::size_t max_stack_rows = 8192;
}  // namespace detail

/// Resamples `window` of a C×h×w image to C'×out_h×out_w floats at `dst` (bilinear,
/// align_corners=False, zeros outside the image), mirroring when window.flip, then applies `t`'s
/// normalisation and channel replication. Takes no random draws.
template <class T>
void render_window(const T* src, std::size_t c, std::size_t h, std::size_t w,
                   const crop_window& window, const image_transform& t, std::size_t out_h,
                   std::size_t out_w, float* dst, float input_scale = 1.0f / 255.0f) {
  if (out_h == 0 || out_w == 0 || out_h > detail::max_stack_taps || out_w > detail::max_stack_taps)
    throw config_error("render_window: output size " + std::to_string(out_h) + "x" +
                       std::to_string(out_w) + " must be in 1.." +
                       std::to_string(detail::max_stack_taps));
  if (window.height <= 0 || window.width <= 0)
    throw config_error("render_window: empty crop window");
  detail::taps ty[detail::max_stack_taps], tx[detail::max_stack_taps];
  detail::make_taps(window.top, window.height, long(h), out_h, ty);
  detail::make_taps(window.left, window.width, long(w), out_w, tx);
  if (window.flip) std::reverse(tx, tx + out_w);
  // Source rows the vertical taps read; taps with weight 0 (padding) are pointed inside that range
  // so the horizontal pass only covers rows that matter.
  std::size_t row_lo = h, row_hi = 0;
  for (std::size_t y = 0; y < out_h; ++y) {
    if (ty[y].w0 != 0.0f) row_lo = std::min(row_lo, ty[y].i0), row_hi = std::max(row_hi, ty[y].i0);
    if (ty[y].w1 != 0.0f) row_lo = std::min(row_lo, ty[y].i1), row_hi = std::max(row_hi, ty[y].i1);
  }
  if (row_lo > row_hi) row_lo = row_hi = 0;  // the window lies wholly in the padding
  for (std::size_t y = 0; y < out_h; ++y) {
    if (ty[y].w0 == 0.0f) ty[y].i0 = row_lo;
    if (ty[y].w1 == 0.0f) ty[y].i1 = row_lo;
  }
  const std::size_t tmp_size = (row_hi - row_lo + 1) * out_w;
  float tmp_stack[detail::max_stack_rows];
  float* tmp = tmp_stack;
  if (tmp_size > detail::max_stack_rows) {
    thread_local std::vector<float> tmp_heap;
    if (tmp_heap.size() < tmp_size) tmp_heap.resize(tmp_size);
    tmp = tmp_heap.data();
  }
  const std::size_t oc = t.output_channels(c);
  const std::size_t plane = out_h * out_w;
  auto coeffs = [&](std::size_t ch, float& a, float& b) {
    a = input_scale;
    b = 0.0f;
    if (!t.mean.empty()) {
      const std::size_t k = t.mean.size() == 1 ? 0 : ch;
      a = input_scale / t.std[k];
      b = -t.mean[k] / t.std[k];
    }
  };
  if (oc == c) {
    for (std::size_t ch = 0; ch < c; ++ch) {
      float a, b;
      coeffs(ch, a, b);
      detail::resample_plane(src + ch * h * w, w, ty, out_h, tx, out_w, row_lo, row_hi, a, b, tmp,
                             dst + ch * plane);
    }
    return;
  }
  // Replication: resample once in raw units, then derive every channel from that plane.
  detail::resample_plane(src, w, ty, out_h, tx, out_w, row_lo, row_hi, 1.0f, 0.0f, tmp, dst);
  for (std::size_t ch = oc; ch-- > 0;) {
    float a, b;
    coeffs(ch, a, b);
    float* o = dst + ch * plane;
    for (std::size_t i = 0; i < plane; ++i) o[i] = dst[i] * a + b;
  }
}

/// A rectangle of an h×w output, in output pixels.
struct erase_box {
  std::size_t top = 0, left = 0, height = 0, width = 0;  ///< height 0: nothing to erase
};

/// torchvision `RandomErasing.get_params` for an h×w output under `t`'s erasing settings: the
/// decision (one draw), then per attempt the area fraction and log-aspect-ratio, then top and left.
/// An empty box when the coin says no or all 10 attempts fail to fit.
inline erase_box plan_erasing(const image_transform& t, std::size_t h, std::size_t w, nat::rng& r) {
  erase_box box;
  if (!(t.random_erasing > 0.0) || !r.bernoulli(t.random_erasing)) return box;
  const double area = double(h) * double(w);
  const double log_lo = std::log(t.erasing_ratio_min), log_hi = std::log(t.erasing_ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * r.uniform(t.erasing_scale_min, t.erasing_scale_max);
    const double aspect = std::exp(r.uniform(log_lo, log_hi));
    const long eh = round_half_even(std::sqrt(target * aspect));
    const long ew = round_half_even(std::sqrt(target / aspect));
    if (eh < 1 || ew < 1 || eh >= long(h) || ew >= long(w)) continue;
    box.top = std::size_t(r.uniform_int(0, long(h) - eh));
    box.left = std::size_t(r.uniform_int(0, long(w) - ew));
    box.height = std::size_t(eh);
    box.width = std::size_t(ew);
    return box;
  }
  return box;
}

/// Applies pipeline `t` to one uint8 C×h×w image, writing output_channels(c)×out_h×out_w floats to
/// `dst`; the randomness comes from `r` (see plan_crop for the draw order; random erasing draws
/// after the geometry, so turning it on leaves every image's crop and flip as they were).
inline void apply_transform(const image_transform& t, const std::uint8_t* src, std::size_t c,
                            std::size_t h, std::size_t w, std::size_t out_h, std::size_t out_w,
                            nat::rng& r, float* dst) {
  render_window(src, c, h, w, plan_crop(t, h, w, r), t, out_h, out_w, dst);
  const erase_box e = plan_erasing(t, out_h, out_w, r);
  if (e.height == 0) return;
  const std::size_t oc = t.output_channels(c), plane = out_h * out_w;
  for (std::size_t ch = 0; ch < oc; ++ch)
    for (std::size_t y = e.top; y < e.top + e.height; ++y)
      std::fill_n(dst + ch * plane + y * out_w + e.left, e.width, 0.0f);
}

/// Plain bilinear resize of a float C×h×w image, as PyTorch's
/// `F.interpolate(x, size=(out_h, out_w), mode="bilinear", align_corners=False)` (no antialias).
inline std::vector<float> resize_bilinear(const std::vector<float>& src, std::size_t c,
                                          std::size_t h, std::size_t w, std::size_t out_h,
                                          std::size_t out_w) {
  if (src.size() != c * h * w)
    throw shape_error("resize_bilinear: expected " + std::to_string(c) + "x" + std::to_string(h) +
                      "x" + std::to_string(w) + " = " + std::to_string(c * h * w) +
                      " values, got " + std::to_string(src.size()));
  std::vector<float> out(c * out_h * out_w);
  crop_window full;
  full.height = long(h);
  full.width = long(w);
  render_window(src.data(), c, h, w, full, image_transform{}, out_h, out_w, out.data(), 1.0f);
  return out;
}

/// Seed of the per-image generator for image `index` in `epoch`: a hash of the three, so an
/// image's augmentation depends on nothing else (not on threads, batch order or resolution).
inline std::uint64_t image_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  std::uint64_t h = mix(seed + 0x9E3779B97F4A7C15ULL);
  h = mix(h ^ (epoch + 0x632BE59BD9B4E019ULL));
  return mix(h ^ (index + 0x85157AF5ULL));
}

/// Per-channel mean and standard deviation of a dataset's pixels in [0, 1] units (population
/// std), for image_transform::mean / std.
inline void channel_mean_std(const image_dataset& ds, std::vector<float>& mean,
                             std::vector<float>& stddev) {
  const std::size_t c = ds.channels(), hw = ds.height() * ds.width();
  if (ds.empty()) throw config_error("channel_mean_std: dataset " + ds.name() + " is empty");
  mean.assign(c, 0.0f);
  stddev.assign(c, 0.0f);
  for (std::size_t ch = 0; ch < c; ++ch) {
    // Integer sums are exact, so the result does not depend on summation order.
    std::uint64_t s = 0, s2 = 0;
    for (std::size_t i = 0; i < ds.size(); ++i) {
      const std::uint8_t* p = ds.image(i) + ch * hw;
      for (std::size_t k = 0; k < hw; ++k) {
        s += p[k];
        s2 += std::uint64_t(p[k]) * p[k];
      }
    }
    const double n = double(ds.size()) * double(hw);
    const double m = double(s) / n;
    const double var = std::max(0.0, double(s2) / n - m * m);
    mean[ch] = float(m / 255.0);
    stddev[ch] = float(std::sqrt(var) / 255.0);
  }
}

inline transform_config nat_transforms(const image_dataset& ds, bool horizontal_flip,
                                       std::size_t out_channels, double resize_scale) {
  transform_config cfg;
  image_transform& tr = cfg.train;
  tr.random_crop = true;
  tr.random_crop_padding = std::size_t(std::lround(double(ds.height()) / 8.0));
  tr.random_resized_crop = true;
  tr.scale_min = resize_scale;
  tr.scale_max = 1.0;
  tr.ratio_min = tr.ratio_max = 1.0;
  tr.horizontal_flip = horizontal_flip;
  tr.out_channels = out_channels;
  channel_mean_std(ds, tr.mean, tr.std);
  for (float& s : tr.std)
    if (s <= 0.0f) s = 1.0f;  // a constant channel: centre it, do not divide by 0
  cfg.eval.mean = tr.mean;
  cfg.eval.std = tr.std;
  cfg.eval.out_channels = out_channels;
  tr.validate(ds.channels());
  cfg.eval.validate(ds.channels());
  return cfg;
}

}  // namespace nat::data
