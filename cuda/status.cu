// Per-thread detail string behind nat::ops::cuda::last_error_message().
#include <string>

#include "common.cuh"

namespace nat::ops::cuda {
namespace {
// Per host thread so concurrent callers do not overwrite each other's message.
thread_local std::string last_error;
}  // namespace

const char* last_error_message() { return last_error.c_str(); }

namespace detail {
void set_last_error(const char* message) { last_error = message != nullptr ? message : ""; }
}  // namespace detail

}  // namespace nat::ops::cuda
