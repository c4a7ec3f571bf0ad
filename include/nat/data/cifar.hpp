#pragma once
/// \file Readers for the CIFAR-10 / CIFAR-100 "binary version" files (Krizhevsky 2009).
///
/// CIFAR-10 record: 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32×32
/// row-major), i.e. already CHW. CIFAR-100 record: coarse label byte + fine label byte + 3072.
/// Files may be plain or gzip (see file_bytes.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/data/file_bytes.hpp"
#include "nat/data/idx.hpp"
#include "nat/data/image_dataset.hpp"

namespace nat::data {

/// Which CIFAR-100 label to keep: the 100 fine classes or the 20 coarse superclasses.
enum class cifar100_label { fine, coarse };

namespace detail {
// Appends the records of one CIFAR binary file. `label_bytes` is 1 (CIFAR-10) or 2 (CIFAR-100);
// `label_offset` picks which of them is the label.
inline void read_cifar_records(const std::string& path, std::size_t label_bytes,
                               std::size_t label_offset, int n_classes, const std::string& who,
                               std::vector<std::uint8_t>& pixels, std::vector<int>& labels) {
  constexpr std::size_t image_bytes = 3 * 32 * 32;
  const std::size_t record = label_bytes + image_bytes;
  const std::string bytes = read_file_bytes(path, who);
  if (bytes.empty() || bytes.size() % record != 0)
    throw io_error(who + ": " + path + ": size " + std::to_string(bytes.size()) +
                   " bytes is not a positive multiple of the " + std::to_string(record) +
                   "-byte record (" + std::to_string(label_bytes) +
                   " label byte(s) + 3072 pixels)" +
                   (bytes.size() % record ? "; truncated or not a CIFAR file" : ""));
  const std::size_t n = bytes.size() / record;
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t first = labels.size();
  pixels.resize((first + n) * image_bytes);
  labels.resize(first + n);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* r = b + i * record;
    const int l = r[label_offset];
    if (l >= n_classes)
      throw io_error(who + ": " + path + ": record " + std::to_string(i) + " has label " +
                     std::to_string(l) + ", expected 0.." + std::to_string(n_classes - 1));
    labels[first + i] = l;
    std::copy(r + label_bytes, r + record, pixels.data() + (first + i) * image_bytes);
  }
}
}  // namespace detail

/// Reads CIFAR-10 binary files (e.g. data_batch_1.bin … data_batch_5.bin) into one dataset of
/// 3×32×32 images, 10 classes. io_error naming the file on a size that is not a whole number of
/// 3073-byte records or a label ≥ 10.
inline image_dataset read_cifar10(const std::vector<std::string>& files,
                                  const std::string& name = "cifar10") {
  if (files.empty()) throw config_error("read_cifar10: no files given");
  std::vector<std::uint8_t> px;
  std::vector<int> lb;
  for (const auto& f : files) detail::read_cifar_records(f, 1, 0, 10, "read_cifar10", px, lb);
  return image_dataset(name, 3, 32, 32, std::move(px), std::move(lb), 10);
}

/// Reads a CIFAR-100 binary file (train.bin or test.bin): 3×32×32 images with the fine (100
/// classes) or coarse (20 superclasses) label. io_error on a size that is not a whole number of
/// 3074-byte records or an out-of-range label.
inline image_dataset read_cifar100(const std::string& file,
                                   cifar100_label which = cifar100_label::fine,
                                   const std::string& name = "cifar100") {
  const bool fine = which == cifar100_label::fine;
  const int n_classes = fine ? 100 : 20;
  std::vector<std::uint8_t> px;
  std::vector<int> lb;
  detail::read_cifar_records(file, 2, fine ? 1 : 0, n_classes, "read_cifar100", px, lb);
  return image_dataset(name, 3, 32, 32, std::move(px), std::move(lb), n_classes);
}

/// Loads split `s` of CIFAR-10 from the directory of the official binary archive
/// (`cifar-10-batches-bin/`: data_batch_1..5.bin, test_batch.bin).
inline image_dataset load_cifar10(const std::string& dir, split s) {
  std::vector<std::string> files;
  if (s == split::train)
    for (int i = 1; i <= 5; ++i)
      files.push_back(detail::join(dir, "data_batch_" + std::to_string(i) + ".bin"));
  else
    files.push_back(detail::join(dir, "test_batch.bin"));
  return read_cifar10(files, std::string("cifar10/") + to_string(s));
}

/// Loads split `s` of CIFAR-100 from the directory of the official binary archive
/// (`cifar-100-binary/`: train.bin, test.bin).
inline image_dataset load_cifar100(const std::string& dir, split s,
                                   cifar100_label which = cifar100_label::fine) {
  return read_cifar100(detail::join(dir, s == split::train ? "train.bin" : "test.bin"), which,
                       std::string("cifar100/") + to_string(s));
}

}  // namespace nat::data
