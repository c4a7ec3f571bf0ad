#pragma once
/// \file IDX readers (MNIST, Fashion-MNIST, KMNIST, …) and the run-time lookup of Fashion-MNIST.
///
/// IDX (LeCun's MNIST format): two zero bytes, a type byte (0x08 = unsigned byte), the number of
/// dimensions d, then d big-endian uint32 sizes, then the data in row-major order. Files may be
/// plain or gzip-compressed (detected by magic bytes, see file_bytes.hpp).
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/data/file_bytes.hpp"
#include "nat/data/image_dataset.hpp"

namespace nat::data {

/// Which part of a dataset distributed with a fixed train/test division to load.
enum class split { train, test };

/// Name of a split, "train" or "test".
inline const char* to_string(split s) { return s == split::train ? "train" : "test"; }

/// An IDX array of unsigned bytes: its dimensions and its row-major data.
struct idx_array {
  std::vector<std::size_t> dims;   ///< Sizes, outermost first (e.g. {N, 28, 28}).
  std::vector<std::uint8_t> data;  ///< Product of dims bytes.
};

/// Reads an IDX file of unsigned bytes (type 0x08), plain or gzip. io_error naming the file on a
/// wrong magic, a type other than 0x08, or a size that disagrees with the header (truncated file or
/// trailing bytes).
inline idx_array read_idx(const std::string& path) {
  const std::string who = "read_idx";
  const std::string bytes = read_file_bytes(path, who);
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4 || b[0] != 0 || b[1] != 0)
    throw io_error(
        who + ": " + path + " is not an IDX file: expected magic bytes 00 00 <type> <ndims>" +
        (bytes.size() < 4 ? ", file has only " + std::to_string(bytes.size()) + " bytes"
                          : ", got " + std::to_string(b[0]) + " " + std::to_string(b[1])));
  if (b[2] != 0x08)
    throw io_error(who + ": " + path + ": IDX data type " + std::to_string(b[2]) +
                   " is not supported, expected 8 (unsigned byte)");
  const std::size_t nd = b[3];
  if (nd == 0) throw io_error(who + ": " + path + ": IDX header declares 0 dimensions");
  const std::size_t header = 4 + 4 * nd;
  if (bytes.size() < header)
    throw io_error(who + ": " + path + ": truncated IDX header: " + std::to_string(nd) +
                   " dimensions need " + std::to_string(header) + " bytes, file has " +
                   std::to_string(bytes.size()));
  idx_array out;
  std::size_t count = 1;
  std::string dims_text;
  for (std::size_t d = 0; d < nd; ++d) {
    const unsigned char* p = b + 4 + 4 * d;
    const std::size_t v = std::size_t(p[0]) << 24 | std::size_t(p[1]) << 16 |
                          std::size_t(p[2]) << 8 | std::size_t(p[3]);
    out.dims.push_back(v);
    // A corrupt header can declare more data than size_t holds; saturate so it reads "truncated".
    if (__builtin_mul_overflow(count, v, &count)) count = ~std::size_t(0);
    dims_text += (d ? "x" : "") + std::to_string(v);
  }
  const std::size_t have = bytes.size() - header;
  if (have != count)
    throw io_error(who + ": " + path + ": header declares " + dims_text + " = " +
                   std::to_string(count) + " data bytes, file has " + std::to_string(have) +
                   (have < count ? " (truncated file)" : " (trailing bytes)"));
  out.data.assign(b + header, b + header + count);
  return out;
}

/// Builds a dataset from an IDX image file (N×H×W, 1 channel) and an IDX label file (N).
/// io_error naming the file when the ranks are wrong, the counts differ or a label is ≥ n_classes.
inline image_dataset read_idx_dataset(const std::string& images_path,
                                      const std::string& labels_path, int n_classes,
                                      const std::string& name = "") {
  const std::string who = "read_idx_dataset";
  if (n_classes <= 0)
    throw config_error(who + ": n_classes must be positive, got " + std::to_string(n_classes));
  idx_array images = read_idx(images_path);
  if (images.dims.size() != 3)
    throw io_error(who + ": " + images_path +
                   ": expected a 3-dimensional IDX image file (N×H×W), got " +
                   std::to_string(images.dims.size()) + " dimensions");
  const idx_array labels = read_idx(labels_path);
  if (labels.dims.size() != 1)
    throw io_error(who + ": " + labels_path + ": expected a 1-dimensional IDX label file, got " +
                   std::to_string(labels.dims.size()) + " dimensions");
  if (labels.dims[0] != images.dims[0])
    throw io_error(who + ": " + labels_path + " holds " + std::to_string(labels.dims[0]) +
                   " labels but " + images_path + " holds " + std::to_string(images.dims[0]) +
                   " images");
  std::vector<int> lb(labels.data.size());
  for (std::size_t i = 0; i < lb.size(); ++i) {
    lb[i] = labels.data[i];
    if (lb[i] >= n_classes)
      throw io_error(who + ": " + labels_path + ": label " + std::to_string(lb[i]) + " of item " +
                     std::to_string(i) + " is not below n_classes = " + std::to_string(n_classes));
  }
  return image_dataset(name.empty() ? images_path : name, 1, images.dims[1], images.dims[2],
                       std::move(images.data), std::move(lb), n_classes);
}

namespace detail {
inline bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
inline bool dir_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
inline std::string join(const std::string& dir, const std::string& file) {
  if (dir.empty() || dir.back() == '/') return dir + file;
  return dir + "/" + file;
}
// The first existing file among the MNIST naming variants (gzip first, as Debian ships them).
inline std::string find_idx_file(const std::string& dir, const std::string& prefix,
                                 const std::string& kind, const std::string& who) {
  const std::string bases[] = {prefix + "-" + kind, prefix + "." + kind};
  for (const auto& base : bases)
    for (const char* ext : {".gz", ""})
      if (file_exists(join(dir, base + ext))) return join(dir, base + ext);
  throw io_error(who + ": no " + prefix + "-" + kind + "[.gz] in " + dir);
}
}  // namespace detail

/// Loads split `s` of an IDX dataset kept in MNIST's layout: `train-images-idx3-ubyte[.gz]`,
/// `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`.
inline image_dataset load_idx_dataset(const std::string& dir, split s, int n_classes = 10,
                                      const std::string& name = "") {
  const std::string who = "load_idx_dataset";
  if (!detail::dir_exists(dir)) throw io_error(who + ": directory " + dir + " does not exist");
  const std::string prefix = s == split::train ? "train" : "t10k";
  const std::string images = detail::find_idx_file(dir, prefix, "images-idx3-ubyte", who);
  const std::string labels = detail::find_idx_file(dir, prefix, "labels-idx1-ubyte", who);
  return read_idx_dataset(images, labels, n_classes,
                          (name.empty() ? dir : name) + "/" + to_string(s));
}

/// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
inline constexpr const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

/// The Fashion-MNIST directory to use: `dir` when given, else $NAT_FASHION_MNIST_DIR when set,
/// else default_fashion_mnist_dir. Does not check that it exists.
inline std::string fashion_mnist_dir(const std::string& dir = "") {
  if (!dir.empty()) return dir;
  if (const char* env = std::getenv("NAT_FASHION_MNIST_DIR"); env && *env) return env;
  return default_fashion_mnist_dir;
}

/// Loads Fashion-MNIST (Xiao et al. 2017; 60,000 train / 10,000 test, 28×28 grey, 10 classes)
/// from fashion_mnist_dir(dir). io_error explaining how to install it when the files are missing.
inline image_dataset load_fashion_mnist(split s, const std::string& dir = "") {
  const std::string d = fashion_mnist_dir(dir);
  const std::string prefix = s == split::train ? "train" : "t10k";
  const bool present = detail::file_exists(detail::join(d, prefix + "-images-idx3-ubyte.gz")) ||
                       detail::file_exists(detail::join(d, prefix + "-images-idx3-ubyte"));
  if (!present)
    throw io_error("load_fashion_mnist: Fashion-MNIST " + std::string(to_string(s)) +
                   " files not found in " + d + " (looked for " + prefix +
                   "-images-idx3-ubyte[.gz]); install the Debian package dataset-fashion-mnist "
                   "(apt-get install dataset-fashion-mnist) or pass --data DIR (or set "
                   "NAT_FASHION_MNIST_DIR)");
  return load_idx_dataset(d, s, 10, "fashion-mnist");
}

}  // namespace nat::data
