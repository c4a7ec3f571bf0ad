#pragma once
// Helpers for the data tests: a private temp directory, crafted files and gzip compression.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#if defined(NAT_WITH_ZLIB)
#include <zlib.h>
#endif

namespace nat_test {

// A fresh directory under /tmp, removed (files and all) when the object dies.
struct temp_dir {
  std::string path;
  std::vector<std::string> files;
  temp_dir() {
    char tmpl[] = "/tmp/nat_data_test_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path = p ? p : "/tmp";
  }
  ~temp_dir() {
    for (const auto& f : files) std::remove(f.c_str());
    ::rmdir(path.c_str());
  }
  // Writes `bytes` to path/name and returns the full path.
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string full = path + "/" + name;
    std::FILE* f = std::fopen(full.c_str(), "wb");
    if (f) {
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
    files.push_back(full);
    return full;
  }
};

inline void put_be32(std::string& s, std::uint32_t v) {
  s += char(v >> 24);
  s += char((v >> 16) & 0xff);
  s += char((v >> 8) & 0xff);
  s += char(v & 0xff);
}

// An IDX ubyte file with the given dims and data (not checked: tests craft bad ones too).
inline std::string idx_bytes(const std::vector<std::uint32_t>& dims,
                             const std::vector<std::uint8_t>& data) {
  std::string s;
  s += char(0);
  s += char(0);
  s += char(8);
  s += char(dims.size());
  for (auto d : dims) put_be32(s, d);
  s.append(data.begin(), data.end());
  return s;
}

#if defined(NAT_WITH_ZLIB)
// gzip-compresses `raw` (windowBits 31 = gzip wrapper), independently of the reader under test.
inline std::string gzip(const std::string& raw) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, raw.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
#endif

}  // namespace nat_test
