#pragma once
/// \file Internal invariant checks, active in debug builds only; boundary checks throw instead.
#include <cstdio>
#include <cstdlib>

#ifndef NDEBUG
#define NAT_ASSERT(cond)                                                                    \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "nat: internal assertion failed: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                               \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
#else
#define NAT_ASSERT(cond) \
  do {                   \
  } while (0)
#endif
