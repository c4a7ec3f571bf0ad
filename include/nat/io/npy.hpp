#pragma once
/// \file NumPy .npy files for single tensors: float32/float64, little-endian, C order (format
/// versions 1.0–3.0 are read, 1.0 is written). Anything else is an io_error naming the file.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::io {
namespace detail {

template <class T>
constexpr const char* npy_descr() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "npy: only float and double tensors");
  return std::is_same_v<T, float> ? "<f4" : "<f8";
}

inline std::string npy_dtype_name(const std::string& descr) {
  if (descr == "<f4") return "float32";
  if (descr == "<f8") return "float64";
  return "'" + descr + "'";
}

// Value of `key` in the header dict: the text after "'key':" up to the matching delimiter.
inline std::string npy_field(const std::string& path, const std::string& header,
                             const std::string& key) {
  const std::string k = "'" + key + "'";
  auto p = header.find(k);
  if (p == std::string::npos) throw io_error("load_npy: " + path + ": header lacks " + k);
  p = header.find(':', p + k.size());
  if (p == std::string::npos) throw io_error("load_npy: " + path + ": malformed header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) throw io_error("load_npy: " + path + ": malformed header");
  const char open = header[p];
  if (open == '\'' || open == '(') {
    const char close = open == '(' ? ')' : '\'';
    const auto e = header.find(close, p + 1);
    if (e == std::string::npos) throw io_error("load_npy: " + path + ": malformed header");
    return header.substr(p + 1, e - p - 1);
  }
  auto e = header.find_first_of(",}", p);
  if (e == std::string::npos) throw io_error("load_npy: " + path + ": malformed header");
  return header.substr(p, e - p);
}

}  // namespace detail

/// Reads a .npy file into a contiguous tensor; io_error when the file is missing, truncated,
/// not .npy, Fortran-ordered, big-endian or of another dtype than T.
template <class T>
tensor<T> load_npy(const std::string& path) {
  const std::string bytes = nat::read_file(path);
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    throw io_error("load_npy: " + path + " is not a .npy file (bad magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw io_error("load_npy: " + path + " is truncated (header)");
    for (int i = 3; i >= 0; --i)
      header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
    start = 12;
  } else {
    throw io_error("load_npy: " + path + ": unsupported .npy version " + std::to_string(major));
  }
  if (bytes.size() < start + header_len)
    throw io_error("load_npy: " + path + " is truncated (header)");
  const std::string header = bytes.substr(start, header_len);
  const std::string descr = detail::npy_field(path, header, "descr");
  if (descr != detail::npy_descr<T>())
    throw io_error("load_npy: " + path + " holds dtype " + detail::npy_dtype_name(descr) +
                   ", expected " + detail::npy_dtype_name(detail::npy_descr<T>()));
  const std::string fortran = detail::npy_field(path, header, "fortran_order");
  if (fortran.find("False") == std::string::npos)
    throw io_error("load_npy: " + path + " is Fortran-ordered; only C order is supported");
  const std::string dims_text = detail::npy_field(path, header, "shape");
  std::vector<std::size_t> dims;
  std::size_t i = 0;
  while (i < dims_text.size()) {
    while (i < dims_text.size() && (dims_text[i] == ' ' || dims_text[i] == ',')) ++i;
    if (i >= dims_text.size()) break;
    if (dims_text[i] < '0' || dims_text[i] > '9')
      throw io_error("load_npy: " + path + ": malformed shape (" + dims_text + ")");
    std::size_t v = 0;
    while (i < dims_text.size() && dims_text[i] >= '0' && dims_text[i] <= '9')
      v = v * 10 + std::size_t(dims_text[i++] - '0');
    dims.push_back(v);
  }
  if (dims.size() > nat::shape::max_rank)
    throw io_error("load_npy: " + path + " has rank " + std::to_string(dims.size()) +
                   ", more than nat supports");
  const nat::shape s(dims);
  const std::size_t data_bytes = s.numel() * sizeof(T), off = start + header_len;
  if (bytes.size() - off < data_bytes)
    throw io_error("load_npy: " + path + " is truncated: shape " + to_string(s) + " needs " +
                   std::to_string(data_bytes) + " bytes of data, the file has " +
                   std::to_string(bytes.size() - off));
  auto t = tensor<T>::empty(s);
  if (data_bytes) std::memcpy(t.data(), bytes.data() + off, data_bytes);  // little-endian host
  return t;
}

/// Writes a tensor as a version-1.0 .npy file, atomically (temp file + rename).
template <class T>
void save_npy(const std::string& path, const tensor<T>& t) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "save_npy assumes a little-endian host");
  std::string dims;  // Python tuple syntax: "(2, 3)", "(5,)", "()"
  for (std::size_t d = 0; d < t.rank(); ++d) dims += (d ? ", " : "") + std::to_string(t.size(d));
  if (t.rank() == 1) dims += ",";
  std::string header = std::string("{'descr': '") + detail::npy_descr<T>() +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so that magic + len + header + '\n' is a multiple of 64 (NumPy's alignment).
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(header.size() & 0xff);
  out += char((header.size() >> 8) & 0xff);
  out += header;
  const tensor<T> c = t.contiguous();
  out.append(reinterpret_cast<const char*>(c.data()), c.numel() * sizeof(T));
  nat::write_file_atomic(path, out);
}

}  // namespace nat::io
