#pragma once
/// \file Whole-file reads and atomic writes (temp file + fsync + rename), so a killed job never
/// leaves a half-written checkpoint, archive or weights file behind.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "nat/core/error.hpp"

namespace nat {

/// Reads a whole file as bytes; io_error naming the path when it cannot be opened or read.
inline std::string read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw io_error("read_file: cannot open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) throw io_error("read_file: error while reading " + path);
  return out;
}

/// Writes `bytes` to `path` atomically: readers see the old file or the complete new one, never a
/// part.
inline void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw io_error("write_file_atomic: cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw io_error("write_file_atomic: writing " + tmp + " failed: " + why);
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw io_error("write_file_atomic: cannot flush " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw io_error("write_file_atomic: cannot rename " + tmp + " to " + path + ": " + why);
  }
}

/// Appends one line (a trailing '\n' is added) and flushes it to disk: used for append-only logs
/// such as the search archive, where a crash may lose at most the line being written.
inline void append_line_durable(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0)
    throw io_error("append_line_durable: cannot open " + path + ": " + std::strerror(errno));
  const std::string data = line + "\n";
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw io_error("append_line_durable: writing " + path + " failed");
    }
    done += static_cast<std::size_t>(w);
  }
  ::fsync(fd);
  ::close(fd);
}

/// True when `path` names an existing file or directory.
inline bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

/// Creates `path` and its missing parents (mkdir -p); io_error naming the directory on failure.
inline void make_dirs(const std::string& path) {
  std::string cur;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if ((i == path.size() || path[i] == '/') && !cur.empty() && !file_exists(cur) &&
        ::mkdir(cur.c_str(), 0755) != 0 && !file_exists(cur))
      throw io_error("make_dirs: cannot create directory " + cur + ": " + std::strerror(errno));
    if (i < path.size()) cur += path[i];
  }
}

/// The directory part of `path` ("" when it has none).
inline std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace nat
