#pragma once
/// \file Reading and writing safetensors files (the Hugging Face format: an 8-byte little-endian
/// header length, a JSON header `{name: {"dtype","shape","data_offsets"}, "__metadata__": {…}}`,
/// then the raw little-endian data).
///
/// nat stores supernet and subnet weights this way with OFA's state-dict paths as tensor names
/// (ofa_spec §6), so PyTorch users can read them with `safetensors.torch.load_file`. Writes are
/// atomic; loading into existing tensors validates everything (names, shapes, bounds) before
/// copying a single value, so a bad file never leaves a model half-loaded.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::io {

/// Named tensors in file order.
template <class T>
using named_tensors = std::vector<std::pair<std::string, tensor<T>>>;

namespace detail {

inline std::uint64_t read_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline std::size_t dtype_size(const std::string& dt) {
  if (dt == "F64" || dt == "I64" || dt == "U64") return 8;
  if (dt == "F32" || dt == "I32" || dt == "U32") return 4;
  if (dt == "F16" || dt == "BF16" || dt == "I16" || dt == "U16") return 2;
  if (dt == "I8" || dt == "U8" || dt == "BOOL") return 1;
  return 0;
}

template <class T>
const char* dtype_name() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "safetensors: only float and double tensors are written");
  return std::is_same_v<T, float> ? "F32" : "F64";
}

// One tensor's header entry, checked against the buffer.
struct entry {
  std::string dtype;
  std::vector<std::size_t> shape;
  std::size_t begin = 0, end = 0;
};

inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Converts `n` little-endian values of `dtype` at `src` to T.
template <class T>
void convert(const std::string& dtype, const unsigned char* src, std::size_t n, T* dst,
             const std::string& path, const std::string& name) {
  auto load = [&](auto tag) {
    using S = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      S v;
      std::memcpy(&v, src + i * sizeof(S), sizeof(S));
      dst[i] = static_cast<T>(v);
    }
  };
  if (dtype == "F32") return load(float{});
  if (dtype == "F64") return load(double{});
  if (dtype == "I64") return load(std::int64_t{});
  if (dtype == "I32") return load(std::int32_t{});
  if (dtype == "F16" || dtype == "BF16") {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      if (dtype == "F16") {
        dst[i] = static_cast<T>(half_to_float(h));
      } else {
        const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        dst[i] = static_cast<T>(f);
      }
    }
    return;
  }
  throw not_supported("load_safetensors(" + path + "): tensor \"" + name + "\" has dtype " + dtype +
                      "; nat reads F64, F32, F16, BF16, I64 and I32");
}

// Parses and validates the header of a whole file image; io_error on any inconsistency.
inline std::map<std::string, entry> parse_header(const std::string& bytes, const std::string& path,
                                                 std::size_t& data_start,
                                                 std::map<std::string, std::string>* metadata) {
  const std::string who = "load_safetensors(" + path + "): ";
  if (bytes.size() < 8)
    throw io_error(who + "file is truncated: " + std::to_string(bytes.size()) +
                   " bytes, a header needs at least 8");
  const std::uint64_t n = read_u64_le(reinterpret_cast<const unsigned char*>(bytes.data()));
  if (n > bytes.size() - 8)
    throw io_error(who + "file is truncated: header claims " + std::to_string(n) + " bytes, only " +
                   std::to_string(bytes.size() - 8) + " follow");
  data_start = 8 + static_cast<std::size_t>(n);
  json::value h;
  try {
    h = json::parse(bytes.substr(8, static_cast<std::size_t>(n)));
  } catch (const error& e) {
    throw io_error(who + "header is not valid JSON: " + e.what());
  }
  if (!h.is_object()) throw io_error(who + "header is not a JSON object");
  const std::size_t data_size = bytes.size() - data_start;
  std::map<std::string, entry> out;
  for (const auto& [name, v] : h.as_object()) {
    if (name == "__metadata__") {
      if (metadata && v.is_object())
        for (const auto& [k, x] : v.as_object())
          if (x.is_string()) (*metadata)[k] = x.as_string();
      continue;
    }
    entry e;
    try {
      e.dtype = v.at("dtype").as_string();
      for (const auto& d : v.at("shape").as_array())
        e.shape.push_back(static_cast<std::size_t>(d.as_int()));
      const auto& off = v.at("data_offsets").as_array();
      if (off.size() != 2) throw io_error("data_offsets needs 2 numbers");
      e.begin = static_cast<std::size_t>(off[0].as_int());
      e.end = static_cast<std::size_t>(off[1].as_int());
    } catch (const error& ex) {
      throw io_error(who + "bad header entry for \"" + name + "\": " + ex.what());
    }
    std::size_t numel = 1;
    for (auto d : e.shape) numel *= d;
    const std::size_t es = dtype_size(e.dtype);
    if (es == 0) throw io_error(who + "tensor \"" + name + "\" has unknown dtype " + e.dtype);
    if (e.end < e.begin || e.end - e.begin != numel * es)
      throw io_error(who + "tensor \"" + name + "\" has data_offsets [" + std::to_string(e.begin) +
                     ", " + std::to_string(e.end) + ") but needs " + std::to_string(numel * es) +
                     " bytes for its shape and dtype");
    if (e.end > data_size)
      throw io_error(who + "file is truncated: tensor \"" + name + "\" ends at byte " +
                     std::to_string(e.end) + " of the data, which has only " +
                     std::to_string(data_size));
    out.emplace(name, std::move(e));
  }
  return out;
}

inline std::string shape_text(const std::vector<std::size_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

}  // namespace detail

/// Writes `tensors` (names unique) with optional string `metadata` to `path`, atomically. Data
/// are F32 for float tensors, F64 for double.
template <class T>
void save_safetensors(const std::string& path, const named_tensors<T>& tensors,
                      const std::map<std::string, std::string>& metadata = {}) {
  json::value h = json::object{};
  if (!metadata.empty()) {
    json::value m = json::object{};
    for (const auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = m;
  }
  std::size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (h.contains(name))
      throw config_error("save_safetensors(" + path + "): tensor name \"" + name +
                         "\" appears twice");
    json::value e;
    e["dtype"] = detail::dtype_name<T>();
    std::vector<std::size_t> s;
    for (std::size_t i = 0; i < t.rank(); ++i) s.push_back(t.size(i));
    e["shape"] = s;
    const std::size_t bytes = t.numel() * sizeof(T);
    e["data_offsets"] = std::vector<std::size_t>{offset, offset + bytes};
    offset += bytes;
    h[name] = e;
  }
  std::string header = h.dump();
  // Pad with spaces so the data start 8-byte aligned (what the reference writer does).
  while ((8 + header.size()) % 8) header += ' ';
  std::string out;
  out.reserve(8 + header.size() + offset);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += header;
  for (const auto& kv : tensors) {
    const tensor<T> c = kv.second.contiguous();
    out.append(reinterpret_cast<const char*>(c.data()), c.numel() * sizeof(T));
  }
  write_file_atomic(path, out);
}

/// Reads every tensor of a safetensors file as tensor<T> (F32/F64/F16/BF16/I64/I32 converted),
/// in a map by name; `metadata` receives the `__metadata__` strings when given. io_error for a
/// truncated or malformed file.
template <class T>
std::map<std::string, tensor<T>> load_safetensors(
    const std::string& path, std::map<std::string, std::string>* metadata = nullptr) {
  const std::string bytes = read_file(path);
  std::size_t start = 0;
  const auto entries = detail::parse_header(bytes, path, start, metadata);
  std::map<std::string, tensor<T>> out;
  for (const auto& [name, e] : entries) {
    nat::shape s;
    std::vector<std::size_t> dims = e.shape;
    s = nat::shape(dims);
    auto t = tensor<T>::empty(s);
    detail::convert(e.dtype, reinterpret_cast<const unsigned char*>(bytes.data()) + start + e.begin,
                    t.numel(), t.data(), path, name);
    out.emplace(name, t);
  }
  return out;
}

/// Loads a file into existing tensors (e.g. a model's parameters and buffers), matching by name.
/// Everything is checked first; on any missing, unexpected (when `strict`) or wrongly shaped
/// tensor, config_error lists all of them and no destination is modified.
template <class T>
void load_safetensors_into(const std::string& path, const named_tensors<T>& dest,
                           bool strict = true) {
  const auto file = load_safetensors<T>(path);
  std::vector<std::string> missing, unexpected, wrong;
  std::map<std::string, bool> wanted;
  for (const auto& [name, t] : dest) {
    wanted[name] = true;
    auto it = file.find(name);
    if (it == file.end()) {
      missing.push_back(name);
      continue;
    }
    if (it->second.shape() != t.shape())
      wrong.push_back(name + " (file " + to_string(it->second.shape()) + ", model " +
                      to_string(t.shape()) + ")");
  }
  if (strict)
    for (const auto& kv : file)
      if (!wanted.count(kv.first)) unexpected.push_back(kv.first);
  if (!missing.empty() || !unexpected.empty() || !wrong.empty()) {
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
      return s;
    };
    std::string msg = "load_safetensors_into(" + path + "): nothing loaded;";
    if (!missing.empty()) msg += " missing: " + join(missing) + ";";
    if (!unexpected.empty()) msg += " unexpected: " + join(unexpected) + ";";
    if (!wrong.empty()) msg += " wrong shape: " + join(wrong) + ";";
    throw config_error(msg);
  }
  for (const auto& [name, t] : dest) t.copy_from(file.at(name));
}

}  // namespace nat::io
