#pragma once
/// \file Exception hierarchy: every error nat throws derives from nat::error.
#include <stdexcept>
#include <string>

namespace nat {

/// Base of every exception nat throws; messages name the function, what was expected and what came.
class error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error(what) {}
};

/// A tensor or matrix had the wrong shape, rank or channel count.
class shape_error : public error {
 public:
  using error::error;
};

/// A configuration, parameter or argument is outside what the algorithm accepts.
class config_error : public error {
 public:
  using error::error;
};

/// A file could not be read or written, or its contents are corrupt or truncated.
class io_error : public error {
 public:
  using error::error;
};

/// A device (CUDA) call failed or a tensor lives on the wrong device.
class device_error : public error {
 public:
  using error::error;
};

/// The requested combination is valid in principle but not implemented in this build.
class not_supported : public error {
 public:
  using error::error;
};

}  // namespace nat
