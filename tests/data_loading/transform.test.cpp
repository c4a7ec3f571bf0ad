#include <doctest/doctest.h>

#include <cmath>
#include <nat/data/transform.hpp>

using nat::data::crop_window;
using nat::data::image_transform;
using nat::data::render_window;
using nat::data::resize_bilinear;

namespace {
void check_close(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK_MESSAGE(std::fabs(got[i] - want[i]) <= tol,
                  "i=" << i << " got " << got[i] << " want " << want[i]);
}
crop_window window(long top, long left, long h, long w, bool flip = false) {
  crop_window c;
  c.top = top;
  c.left = left;
  c.height = h;
  c.width = w;
  c.flip = flip;
  return c;
}
// Renders a uint8 image through `window` in raw pixel units (no /255), for hand-checked values.
std::vector<float> render_raw(const std::vector<std::uint8_t>& img, std::size_t c, std::size_t h,
                              std::size_t w, const crop_window& win, std::size_t oh, std::size_t ow,
                              const image_transform& t = {}) {
  std::vector<float> out(t.output_channels(c) * oh * ow);
  render_window(img.data(), c, h, w, win, t, oh, ow, out.data(), 1.0f);
  return out;
}
}  // namespace

TEST_CASE("resize_bilinear 2x2 -> 4x4 matches PyTorch align_corners=False by hand") {
  // Output x taps for 2→4: src = (o + 0.5)/2 − 0.5 = −0.25→0, 0.25, 0.75, 1.25 (upper clamped),
  // so a row [a, b] becomes [a, .75a+.25b, .25a+.75b, b]; the same along y.
  const auto out = resize_bilinear({0, 1, 2, 3}, 1, 2, 2, 4, 4);
  check_close(out, {0.0f, 0.25f, 0.75f, 1.0f,  //
                    0.5f, 0.75f, 1.25f, 1.5f,  //
                    1.5f, 1.75f, 2.25f, 2.5f,  //
                    2.0f, 2.25f, 2.75f, 3.0f});
}

TEST_CASE("resize_bilinear downscales with the half-pixel rule and keeps channels apart") {
  // 4→2: src = (o + 0.5)·2 − 0.5 = 0.5, 2.5 → means of pairs. 3→2: src = 0.25, 1.75.
  check_close(resize_bilinear({1, 3, 10, 20}, 1, 1, 4, 1, 2), {2.0f, 15.0f});
  check_close(resize_bilinear({4, 8, 16}, 1, 1, 3, 1, 2),
              {0.75f * 4 + 0.25f * 8, 0.25f * 8 + 0.75f * 16});
  // Two channels, 1x2 → 1x3: src = (o+0.5)·2/3 − 0.5 = −1/6→0, 0.5, 7/6 → clamp.
  check_close(resize_bilinear({0, 6, 100, 130}, 2, 1, 2, 1, 3), {0, 3, 6, 100, 115, 130});
  // Same size is the identity.
  std::vector<float> img(5 * 7);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = float(i * i % 17);
  check_close(resize_bilinear(img, 1, 5, 7, 5, 7), img);
  CHECK_THROWS_AS(resize_bilinear(img, 1, 5, 6, 2, 2), nat::shape_error);
}

TEST_CASE("render_window: zero padding outside the image, crop, flip") {
  const std::vector<std::uint8_t> img = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // 3x3
  // A 3x3 window one row up and one column right: the top row lies in the padding.
  check_close(render_raw(img, 1, 3, 3, window(-1, 1, 3, 3), 3, 3), {0, 0, 0, 2, 3, 0, 5, 6, 0});
  check_close(render_raw(img, 1, 3, 3, window(-1, 1, 3, 3, true), 3, 3),
              {0, 0, 0, 0, 3, 2, 0, 6, 5});
  check_close(render_raw(img, 1, 3, 3, window(1, 1, 2, 2), 2, 2), {5, 6, 8, 9});
  // Upscaling a window that touches the padding blends with zeros: row [0(pad), 1] → 4 taps.
  check_close(render_raw(img, 1, 3, 3, window(0, -1, 1, 2), 1, 4), {0, 0.25f, 0.75f, 1});
  // A window wholly inside the padding (possible after random crop + resized crop) is all zeros.
  check_close(render_raw(img, 1, 3, 3, window(-4, 3, 2, 2), 3, 3), std::vector<float>(9, 0.0f));
  // Flip on an upscaled, partly padded window mirrors the unflipped result exactly.
  const auto plain = render_raw(img, 1, 3, 3, window(-1, -1, 4, 3), 5, 7);
  const auto mirrored = render_raw(img, 1, 3, 3, window(-1, -1, 4, 3, true), 5, 7);
  for (std::size_t y = 0; y < 5; ++y)
    for (std::size_t x = 0; x < 7; ++x) CHECK(mirrored[y * 7 + x] == plain[y * 7 + 6 - x]);
}

TEST_CASE("normalisation per channel and 1 -> 3 channel replication") {
  image_transform t;
  t.mean = {0.5f};
  t.std = {0.25f};
  std::vector<float> out(2);
  const std::vector<std::uint8_t> img = {0, 255};
  render_window(img.data(), 1, 1, 2, window(0, 0, 1, 2), t, 1, 2, out.data());
  check_close(out, {-2.0f, 2.0f});

  image_transform rep;
  rep.out_channels = 3;
  rep.mean = {0.0f, 0.5f, 1.0f};
  rep.std = {1.0f, 0.5f, 0.25f};
  REQUIRE(rep.output_channels(1) == 3);
  std::vector<float> out3(6);
  render_window(img.data(), 1, 1, 2, window(0, 0, 1, 2), rep, 1, 2, out3.data());
  check_close(out3, {0.0f, 1.0f, -1.0f, 1.0f, -4.0f, 0.0f});
  CHECK_THROWS_AS(rep.output_channels(2), nat::config_error);
  CHECK_NOTHROW(rep.validate(1));
  CHECK_NOTHROW(rep.validate(3));                       // 3 channels in, 3 out: no replication
  CHECK_THROWS_AS(rep.validate(2), nat::config_error);  // 2 channels cannot become 3
}

TEST_CASE("image_transform::validate names the bad setting") {
  image_transform t;
  t.mean = {0.5f, 0.5f};
  t.std = {0.5f};
  CHECK_THROWS_AS(t.validate(1), nat::config_error);
  t.std = {0.5f, 0.0f};
  CHECK_THROWS_AS(t.validate(2), nat::config_error);
  image_transform r;
  r.random_resized_crop = true;
  r.scale_min = 0.5;
  r.scale_max = 0.4;
  CHECK_THROWS_AS(r.validate(1), nat::config_error);
  image_transform c;
  c.center_crop_fraction = 0.0;
  CHECK_THROWS_AS(c.validate(1), nat::config_error);
}

TEST_CASE("centre crop keeps torchvision's offsets") {
  image_transform t;
  t.center_crop_fraction = 0.5;
  nat::rng r(1);
  const crop_window c = nat::data::plan_crop(t, 4, 6, r);
  // size round(0.5·4)=2, round(0.5·6)=3; top round((4−2)/2)=1, left round((6−3)/2)=round(1.5)=2.
  CHECK(c.top == 1);
  CHECK(c.left == 2);
  CHECK(c.height == 2);
  CHECK(c.width == 3);
  CHECK_FALSE(c.flip);
}

TEST_CASE("random crop offsets cover exactly [-p, p] and flip is a fair coin") {
  image_transform t;
  t.random_crop = true;
  t.random_crop_padding = 2;
  t.horizontal_flip = true;
  nat::rng r(7);
  std::vector<int> seen_top(5, 0), seen_left(5, 0);
  int flips = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const crop_window c = nat::data::plan_crop(t, 8, 8, r);
    REQUIRE((c.top >= -2 && c.top <= 2 && c.left >= -2 && c.left <= 2));
    CHECK(c.height == 8);
    ++seen_top[std::size_t(c.top + 2)];
    ++seen_left[std::size_t(c.left + 2)];
    flips += c.flip;
  }
  for (int k = 0; k < 5; ++k) {
    CHECK(seen_top[std::size_t(k)] > n / 5 - 150);
    CHECK(seen_left[std::size_t(k)] > n / 5 - 150);
  }
  CHECK(std::abs(flips - n / 2) < 150);
}

TEST_CASE("random_resized_crop_params: bounds, area and ratio ranges, fallback") {
  nat::rng r(3);
  for (int i = 0; i < 2000; ++i) {
    const crop_window c = nat::data::random_resized_crop_params(20, 30, 0.2, 0.9, 0.5, 2.0, r);
    REQUIRE((c.height >= 1 && c.width >= 1));
    REQUIRE((c.top >= 0 && c.left >= 0 && c.top + c.height <= 20 && c.left + c.width <= 30));
    const double area = double(c.height * c.width) / 600.0;
    const double ratio = double(c.width) / double(c.height);
    // Rounding sides to whole pixels moves area and ratio a little beyond the drawn ranges.
    CHECK((area > 0.2 - 0.06 && area < 0.9 + 0.06));
    CHECK((ratio > 0.5 * 0.85 && ratio < 2.0 / 0.85));
  }
  // scale 1, ratio 1 on a square: the whole image, every time.
  const crop_window whole = nat::data::random_resized_crop_params(10, 10, 1, 1, 1, 1, r);
  CHECK((whole.top == 0 && whole.left == 0 && whole.height == 10 && whole.width == 10));
  // Ratio 2 at full area never fits a square (w = round(sqrt(200)) = 14 > 10): after 10 attempts
  // the fallback keeps width 10, height round(10/2) = 5, centred: top (10−5)//2 = 2.
  const crop_window fb = nat::data::random_resized_crop_params(10, 10, 1, 1, 2, 2, r);
  CHECK((fb.top == 2 && fb.left == 0 && fb.height == 5 && fb.width == 10));
  // Ratio 1/2 the other way: height 10, width round(10·0.5) = 5, left 2.
  const crop_window fb2 = nat::data::random_resized_crop_params(10, 10, 1, 1, 0.5, 0.5, r);
  CHECK((fb2.top == 0 && fb2.left == 2 && fb2.height == 10 && fb2.width == 5));
}

TEST_CASE("apply_transform equals pad -> crop -> resize done step by step") {
  // An independent chain: build the zero-padded image, cut the crop out of it, resize the crop
  // with resize_bilinear (checked against hand values above), mirror, normalise.
  const std::size_t h = 6, w = 5, p = 2, out = 9;
  std::vector<std::uint8_t> img(2 * h * w);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::uint8_t(17 + 23 * i % 200);
  image_transform t;
  t.random_crop = true;
  t.random_crop_padding = p;
  t.random_resized_crop = true;
  t.scale_min = 0.3;
  t.horizontal_flip = true;
  t.mean = {0.4f, 0.6f};
  t.std = {0.2f, 0.3f};
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    nat::rng r1(seed), r2(seed);
    std::vector<float> got(2 * out * out);
    nat::data::apply_transform(t, img.data(), 2, h, w, out, out, r1, got.data());
    // Replay the same draws by hand: crop offsets, then the resized-crop parameters, then flip.
    const long dy = r2.uniform_int(0, 2 * long(p)), dx = r2.uniform_int(0, 2 * long(p));
    const crop_window s =
        nat::data::random_resized_crop_params(long(h), long(w), 0.3, 1.0, 3.0 / 4.0, 4.0 / 3.0, r2);
    const bool flip = r2.bernoulli(0.5);
    const std::size_t ph = h + 2 * p, pw = w + 2 * p;
    std::vector<float> want;
    for (std::size_t ch = 0; ch < 2; ++ch) {
      std::vector<float> padded(ph * pw, 0.0f);
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
          padded[(y + p) * pw + x + p] = img[ch * h * w + y * w + x];
      std::vector<float> crop;  // h×w crop at (dy, dx) of the padded image, then the RRC window
      for (long y = 0; y < s.height; ++y)
        for (long x = 0; x < s.width; ++x)
          crop.push_back(padded[std::size_t(dy + s.top + y) * pw + std::size_t(dx + s.left + x)]);
      auto res = resize_bilinear(crop, 1, std::size_t(s.height), std::size_t(s.width), out, out);
      for (std::size_t y = 0; y < out; ++y)
        for (std::size_t x = 0; x < out; ++x) {
          const float v = res[y * out + (flip ? out - 1 - x : x)];
          want.push_back((v / 255.0f - t.mean[ch]) / t.std[ch]);
        }
    }
    check_close(got, want, 1e-4f);
  }
}

TEST_CASE("image_seed separates seeds, epochs and indices") {
  using nat::data::image_seed;
  CHECK(image_seed(1, 2, 3) == image_seed(1, 2, 3));
  CHECK(image_seed(1, 2, 3) != image_seed(1, 2, 4));
  CHECK(image_seed(1, 2, 3) != image_seed(1, 3, 3));
  CHECK(image_seed(1, 2, 3) != image_seed(2, 2, 3));
  CHECK(image_seed(0, 1, 0) != image_seed(0, 0, 1));
}

TEST_CASE("channel_mean_std computes population statistics in [0, 1] units") {
  // Channel 0 holds {0, 255, 0, 255}: mean 0.5, std 0.5. Channel 1 is constant 51: 0.2 and 0.
  nat::data::image_dataset ds("s", 2, 1, 2, {0, 255, 51, 51, 0, 255, 51, 51}, {0, 0}, 1);
  std::vector<float> m, s;
  nat::data::channel_mean_std(ds, m, s);
  check_close(m, {0.5f, 0.2f});
  check_close(s, {0.5f, 0.0f});
}

TEST_CASE("nat_transforms: NAT's train/eval pipelines with the dataset's statistics") {
  const nat::data::image_dataset ds("s", 1, 28, 28, std::vector<std::uint8_t>(2 * 784, 51), {0, 1},
                                    2);
  const auto cfg = nat::data::nat_transforms(ds, false, 3, 0.5);
  CHECK(cfg.train.random_crop);
  CHECK(cfg.train.random_crop_padding == 4);  // round(28/8) = round(3.5), half away from zero
  CHECK(cfg.train.random_resized_crop);
  CHECK(cfg.train.scale_min == 0.5);
  CHECK((cfg.train.ratio_min == 1.0 && cfg.train.ratio_max == 1.0));
  CHECK_FALSE(cfg.train.horizontal_flip);
  CHECK(cfg.train.output_channels(1) == 3);
  CHECK(cfg.eval.output_channels(1) == 3);
  CHECK_FALSE(cfg.eval.random_crop);
  CHECK_FALSE(cfg.eval.random_resized_crop);
  REQUIRE(cfg.eval.mean.size() == 1);
  CHECK(cfg.eval.mean[0] == doctest::Approx(0.2));
  CHECK(cfg.eval.std[0] == 1.0f);  // constant images: std 0 replaced by 1
  // With ratio 1 and scale 1 on a square image, the resized crop keeps the whole (shifted) window.
  nat::rng r(5);
  const auto whole = nat::data::nat_transforms(ds, true);
  const crop_window c = nat::data::plan_crop(whole.train, 28, 28, r);
  CHECK((c.height == 28 && c.width == 28));
  CHECK((c.top >= -4 && c.top <= 4));
}

TEST_CASE("random erasing: torchvision's area and ratio ranges, a fair rate, bad settings") {
  image_transform t;
  t.random_erasing = 0.5;
  nat::rng r(11);
  const int n = 20000;
  int erased = 0;
  double area = 0.0;
  for (int i = 0; i < n; ++i) {
    const auto e = nat::data::plan_erasing(t, 32, 32, r);
    if (e.height == 0) continue;
    ++erased;
    REQUIRE((e.width >= 1 && e.height < 32 && e.width < 32));
    REQUIRE((e.top + e.height <= 32 && e.left + e.width <= 32));
    const double ratio = double(e.height) / double(e.width);
    // Rounding h and w to whole pixels widens [0.3, 3.3] a little for small boxes.
    CHECK((ratio > 0.3 * 0.5 && ratio < 3.3 * 2.0));
    area += double(e.height * e.width) / 1024.0;
  }
  CHECK(std::abs(erased - n / 2) < 300);  // 4 standard deviations of a fair coin
  // Mean erased fraction of a 32x32 output under torchvision's rule (rounding, 10 attempts),
  // 0.17404 from 10^6 draws of an independent Python rendition of RandomErasing.get_params.
  CHECK(area / erased == doctest::Approx(0.1740).epsilon(0.02));

  image_transform off;
  nat::rng r0(11);
  CHECK(nat::data::plan_erasing(off, 32, 32, r0).height == 0);
  CHECK(r0.uniform() == nat::rng(11).uniform());  // off takes no draws

  image_transform bad;
  bad.random_erasing = 1.5;
  CHECK_THROWS_AS(bad.validate(1), nat::config_error);
  bad.random_erasing = 0.5;
  bad.erasing_scale_max = 1.0;
  CHECK_THROWS_AS(bad.validate(1), nat::config_error);
}

TEST_CASE("random erasing zeroes one box of the normalised output and leaves the rest alone") {
  const std::size_t h = 10, w = 10;
  std::vector<std::uint8_t> img(h * w);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::uint8_t(100 + i);
  image_transform plain;
  plain.random_crop = true;
  plain.random_crop_padding = 2;
  plain.horizontal_flip = true;
  plain.mean = {0.2f};
  plain.std = {0.3f};
  plain.out_channels = 3;
  image_transform er = plain;
  er.random_erasing = 1.0;
  int boxes = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    std::vector<float> a(3 * 16 * 16), b(a.size());
    nat::rng ra(seed), rb(seed);
    nat::data::apply_transform(plain, img.data(), 1, h, w, 16, 16, ra, a.data());
    nat::data::apply_transform(er, img.data(), 1, h, w, 16, 16, rb, b.data());
    // The same crop and flip (erasing draws after them); the box is where the two differ.
    nat::rng rp(seed);
    nat::data::plan_crop(er, h, w, rp);
    const auto e = nat::data::plan_erasing(er, 16, 16, rp);
    REQUIRE(e.height > 0);
    ++boxes;
    for (std::size_t ch = 0; ch < 3; ++ch)
      for (std::size_t y = 0; y < 16; ++y)
        for (std::size_t x = 0; x < 16; ++x) {
          const std::size_t i = ch * 256 + y * 16 + x;
          const bool inside =
              y >= e.top && y < e.top + e.height && x >= e.left && x < e.left + e.width;
          if (inside)
            REQUIRE(b[i] == 0.0f);
          else
            REQUIRE(b[i] == a[i]);
        }
  }
  CHECK(boxes == 50);
}
