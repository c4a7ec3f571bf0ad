#pragma once
/// \file Reader for images stored as CSV rows (a label column + C·H·W pixel columns), plain or
/// gzip, and scikit-learn's bundled 8×8 digits (`digits.csv.gz`).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/data/file_bytes.hpp"
#include "nat/data/idx.hpp"
#include "nat/data/image_dataset.hpp"

namespace nat::data {

/// Whether a pixel CSV starts with a header row.
enum class csv_header {
  detect,   ///< A first row with any non-numeric cell is a header.
  present,  ///< The first row is always skipped.
  absent    ///< Every row is data.
};

/// How to read a pixel CSV.
struct csv_options {
  std::size_t channels = 1;  ///< Image channels C.
  std::size_t height = 0;    ///< Image height H (required).
  std::size_t width = 0;     ///< Image width W (required).
  /// Index of the label column; negative counts from the end (-1 = last column).
  int label_column = 0;
  csv_header header = csv_header::detect;  ///< Header row handling.
  /// Number of classes; 0 = one more than the largest label found.
  int n_classes = 0;
  /// Largest pixel value in the file; values 0..pixel_max are rescaled to 0..255 with
  /// round-half-up (v·255 + pixel_max/2) / pixel_max. 255 keeps values as they are.
  int pixel_max = 255;
  char delimiter = ',';  ///< Cell separator.
  std::string name;      ///< Dataset name; the file path when empty.
};

namespace detail {
// Parses a non-negative decimal integer cell (surrounding blanks allowed); false when not one.
inline bool parse_uint_cell(const char* b, const char* e, long& out) {
  while (b < e && (*b == ' ' || *b == '\t')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) --e;
  if (b == e) return false;
  long v = 0;
  for (const char* p = b; p < e; ++p) {
    if (*p < '0' || *p > '9') return false;
    v = v * 10 + (*p - '0');
    if (v > 1000000000L) return false;
  }
  out = v;
  return true;
}
inline std::string cell_text(const char* b, const char* e) {
  std::string s(b, e);
  if (s.size() > 20) s = s.substr(0, 20) + "...";
  return s;
}
}  // namespace detail

/// Reads a CSV of images: each row holds a label and C·H·W pixel values (channel-major, then
/// rows, then columns, i.e. CHW). io_error naming the file and line for a non-numeric cell, a row
/// with the wrong number of cells, a pixel above pixel_max or a label ≥ n_classes.
inline image_dataset read_pixel_csv(const std::string& path, const csv_options& opt) {
  const std::string who = "read_pixel_csv";
  const std::size_t n_pix = opt.channels * opt.height * opt.width;
  if (n_pix == 0)
    throw config_error(
        who + ": image shape must be given and positive, got C=" + std::to_string(opt.channels) +
        " H=" + std::to_string(opt.height) + " W=" + std::to_string(opt.width));
  if (opt.pixel_max <= 0)
    throw config_error(who + ": pixel_max must be positive, got " + std::to_string(opt.pixel_max));
  const std::size_t n_cols = n_pix + 1;
  const long lc = opt.label_column < 0 ? long(n_cols) + opt.label_column : opt.label_column;
  if (lc < 0 || lc >= long(n_cols))
    throw config_error(who + ": label_column " + std::to_string(opt.label_column) +
                       " is outside the " + std::to_string(n_cols) + " columns");
  const std::string text = read_file_bytes(path, who);

  std::vector<std::uint8_t> px;
  std::vector<int> lb;
  std::vector<long> row(n_cols);
  const char* p = text.data();
  const char* end = p + text.size();
  std::size_t line = 0;
  bool first = true;
  int max_label = -1;
  while (p < end) {
    const char* eol = p;
    while (eol < end && *eol != '\n') ++eol;
    ++line;
    const char* le = eol;
    if (le > p && le[-1] == '\r') --le;
    const bool blank = le == p;
    const char* cur = p;
    p = eol < end ? eol + 1 : end;
    if (blank) continue;  // tolerate blank lines (trailing newline, spacing)
    // Split the line into cells and parse them.
    std::size_t col = 0;
    bool numeric = true;
    std::string bad;
    std::size_t bad_col = 0;
    for (;;) {
      const char* ce = cur;
      while (ce < le && *ce != opt.delimiter) ++ce;
      long v = 0;
      if (!detail::parse_uint_cell(cur, ce, v)) {
        if (numeric) {
          bad = detail::cell_text(cur, ce);
          bad_col = col + 1;
        }
        numeric = false;
      }
      if (col < n_cols) row[col] = v;
      ++col;
      if (ce == le) break;
      cur = ce + 1;
    }
    const bool is_header = first && ((opt.header == csv_header::present) ||
                                     (opt.header == csv_header::detect && !numeric));
    first = false;
    if (is_header) continue;
    if (col != n_cols)
      throw io_error(who + ": " + path + " line " + std::to_string(line) + ": expected " +
                     std::to_string(n_cols) + " cells (label + " + std::to_string(n_pix) +
                     " pixels), got " + std::to_string(col));
    if (!numeric)
      throw io_error(who + ": " + path + " line " + std::to_string(line) + " column " +
                     std::to_string(bad_col) + ": expected a non-negative integer, got \"" + bad +
                     "\"");
    const long label = row[std::size_t(lc)];
    if (opt.n_classes > 0 && label >= opt.n_classes)
      throw io_error(who + ": " + path + " line " + std::to_string(line) + ": label " +
                     std::to_string(label) +
                     " is not below n_classes = " + std::to_string(opt.n_classes));
    if (label > 1000000)
      throw io_error(who + ": " + path + " line " + std::to_string(line) + ": label " +
                     std::to_string(label) + " is implausibly large");
    lb.push_back(int(label));
    if (int(label) > max_label) max_label = int(label);
    for (std::size_t c = 0; c < n_cols; ++c) {
      if (long(c) == lc) continue;
      const long v = row[c];
      if (v > opt.pixel_max)
        throw io_error(who + ": " + path + " line " + std::to_string(line) + " column " +
                       std::to_string(c + 1) + ": pixel value " + std::to_string(v) +
                       " exceeds pixel_max = " + std::to_string(opt.pixel_max));
      px.push_back(static_cast<std::uint8_t>((v * 255 + opt.pixel_max / 2) / opt.pixel_max));
    }
  }
  if (lb.empty()) throw io_error(who + ": " + path + " holds no data rows");
  const int n_classes = opt.n_classes > 0 ? opt.n_classes : max_label + 1;
  return image_dataset(opt.name.empty() ? path : opt.name, opt.channels, opt.height, opt.width,
                       std::move(px), std::move(lb), n_classes);
}

/// Where Debian's python3-sklearn installs the 8×8 digits (UCI optdigits test part, 1797 images).
inline constexpr const char* default_sklearn_digits_path =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

/// Loads scikit-learn's digits: 1797 rows of 64 pixels (0..16) then the label; returned as 1×8×8
/// uint8 images rescaled to 0..255, 10 classes. `path` defaults to $NAT_SKLEARN_DIGITS when set,
/// else default_sklearn_digits_path; io_error explaining how to install it when missing.
inline image_dataset load_sklearn_digits(const std::string& path = "") {
  std::string p = path;
  if (p.empty()) {
    const char* env = std::getenv("NAT_SKLEARN_DIGITS");
    p = env && *env ? env : default_sklearn_digits_path;
  }
  if (!detail::file_exists(p))
    throw io_error("load_sklearn_digits: " + p +
                   " not found; install the Debian package python3-sklearn (apt-get install "
                   "python3-sklearn) or pass the path of digits.csv.gz");
  csv_options opt;
  opt.height = 8;
  opt.width = 8;
  opt.label_column = -1;
  opt.header = csv_header::absent;
  opt.n_classes = 10;
  opt.pixel_max = 16;
  opt.name = "sklearn-digits";
  return read_pixel_csv(p, opt);
}

}  // namespace nat::data
