#pragma once
/// \file Whole-file reads that decompress gzip transparently, for the dataset readers.
///
/// Debian ships MNIST-style datasets gzip-compressed (`*-idx3-ubyte.gz`), so every reader accepts
/// plain or gzip files alike. Compression is detected from the gzip magic bytes (1f 8b), never from
/// the file name: renamed or already-decompressed files still load.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"

#if defined(NAT_WITH_ZLIB)
#include <zlib.h>
#endif

namespace nat::data {

/// True when `bytes` starts with the gzip magic number 1f 8b.
inline bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

/// Whether this build can read gzip files (zlib was found at configure time).
constexpr bool with_zlib() {
#if defined(NAT_WITH_ZLIB)
  return true;
#else
  return false;
#endif
}

/// Decompresses a whole gzip stream (several concatenated members allowed, as gzip itself does).
/// `who` and `path` only label error messages; io_error on a truncated or corrupt stream,
/// not_supported in builds without zlib.
inline std::string gunzip(const std::string& compressed, const std::string& who,
                          const std::string& path) {
#if defined(NAT_WITH_ZLIB)
  std::string out;
  // The gzip trailer stores the uncompressed size mod 2^32; it is a good first guess for the
  // buffer.
  if (compressed.size() >= 18) {
    const auto* t =
        reinterpret_cast<const unsigned char*>(compressed.data() + compressed.size() - 4);
    const std::size_t isize = std::size_t(t[0]) | std::size_t(t[1]) << 8 | std::size_t(t[2]) << 16 |
                              std::size_t(t[3]) << 24;
    // A truncated file's last 4 bytes are arbitrary, so cap the guess by deflate's maximum ratio.
    if (isize <= compressed.size() * 1032) out.reserve(isize);
  }
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip header and trailer, not a raw zlib stream.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    throw io_error(who + ": zlib inflateInit2 failed for " + path);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  std::size_t in_left = compressed.size();
  char chunk[1 << 16];
  bool ended = false;
  for (;;) {
    // avail_in is 32-bit; feed large inputs in slices.
    if (zs.avail_in == 0 && in_left > 0) {
      const std::size_t take = in_left < (1u << 30) ? in_left : (1u << 30);
      zs.avail_in = static_cast<uInt>(take);
      in_left -= take;
    }
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - zs.avail_out);
    if (rc == Z_STREAM_END) {
      ended = true;
      // Another gzip member may follow (e.g. `cat a.gz b.gz`); anything else is trailing garbage.
      if (zs.avail_in == 0 && in_left == 0) break;
      const std::size_t pos = compressed.size() - in_left - zs.avail_in;
      if (!is_gzip(compressed.substr(pos, 2))) {
        inflateEnd(&zs);
        throw io_error(who + ": " + path +
                       ": unexpected bytes after the end of the gzip stream at " + "offset " +
                       std::to_string(pos));
      }
      inflateReset(&zs);
      ended = false;
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) break;  // input ran out early
    if (rc != Z_OK) {
      const std::string msg = zs.msg ? zs.msg : "error code " + std::to_string(rc);
      inflateEnd(&zs);
      throw io_error(who + ": " + path + ": corrupt gzip data (" + msg + ")");
    }
  }
  inflateEnd(&zs);
  if (!ended)
    throw io_error(who + ": " + path + ": truncated gzip file (the compressed stream ends before " +
                   "its end marker; " + std::to_string(out.size()) +
                   " bytes decompressed); re-download or re-install it");
  return out;
#else
  (void)compressed;
  throw not_supported(who + ": " + path +
                      " is gzip-compressed but nat was built without zlib; install zlib "
                      "(apt-get install zlib1g-dev) and reconfigure, or gunzip the file first");
#endif
}

/// Reads a whole file, decompressing it when it starts with the gzip magic bytes. `who` names the
/// calling function in error messages (io_error when the file cannot be opened or read).
inline std::string read_file_bytes(const std::string& path, const std::string& who) {
  std::string bytes;
  try {
    bytes = nat::read_file(path);
  } catch (const io_error& e) {
    throw io_error(who + ": " + e.what());
  }
  if (is_gzip(bytes)) return gunzip(bytes, who, path);
  return bytes;
}

}  // namespace nat::data
