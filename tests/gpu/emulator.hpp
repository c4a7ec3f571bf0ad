#pragma once
// A tiny CPU emulator for the kernels in cuda/*.cuh, so their logic (indexing, tiling, barriers,
// shuffle trees, split reductions) is exercised on machines without a GPU. Each CUDA thread of a
// block is a ucontext fiber on the calling OS thread; blocks run one after another, so `__shared__`
// can simply become `static`. __syncthreads() and __shfl_down_sync() are barriers over the block /
// warp that yield to a round-robin scheduler; a round in which no fiber advances is reported as a
// deadlock (e.g. a __syncthreads() not reached by every thread).
//
// What it cannot show: races the real memory model allows, warp-divergence costs, out-of-range
// reads (no bounds checking beyond what ASan would see), register/shared limits, performance.
// Include this header before any kernel header; never together with <cuda_runtime.h>.
#include <ucontext.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

namespace nat_emu {

/// dim3 without the CUDA headers.
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

struct fiber {
  ucontext_t ctx{};
  std::unique_ptr<char[]> stack;
  dim3 tid;
  bool done = false;
};

struct barrier {
  unsigned arrived = 0;
  unsigned long gen = 0;
};

/// Emulation state of the block being run (one at a time, on one OS thread).
struct state {
  dim3 block_idx, block_dim, grid_dim;
  std::vector<fiber> fibers;
  std::size_t current = 0;
  ucontext_t scheduler{};
  barrier block_barrier;
  std::vector<barrier> warp_barriers;
  std::vector<std::array<float, 32>> warp_values;
  bool progress = false;
  const std::function<void()>* kernel = nullptr;
};

inline state& st() {
  static state s;
  return s;
}

inline const dim3& thread_idx() { return st().fibers[st().current].tid; }

inline void yield() { swapcontext(&st().fibers[st().current].ctx, &st().scheduler); }

inline void wait(barrier& b, unsigned expected) {
  const unsigned long gen = b.gen;
  st().progress = true;
  if (++b.arrived == expected) {
    b.arrived = 0;
    ++b.gen;
    return;
  }
  while (b.gen == gen) yield();
}

inline unsigned threads_per_block() {
  const dim3& d = st().block_dim;
  return d.x * d.y * d.z;
}

inline unsigned linear_tid() {
  const dim3& t = thread_idx();
  const dim3& d = st().block_dim;
  return (t.z * d.y + t.y) * d.x + t.x;
}

inline void syncthreads() { wait(st().block_barrier, threads_per_block()); }

inline float shfl_down(float v, unsigned delta) {
  const unsigned lane = linear_tid() % 32;
  const unsigned warp = linear_tid() / 32;
  if (threads_per_block() % 32 != 0) throw std::logic_error("emulator: shuffle needs full warps");
  auto& vals = st().warp_values[warp];
  vals[lane] = v;
  wait(st().warp_barriers[warp], 32);
  const float r = lane + delta < 32 ? vals[lane + delta] : v;
  wait(st().warp_barriers[warp], 32);  // nobody overwrites vals before everyone has read
  return r;
}

inline void entry() {
  (*st().kernel)();
  st().fibers[st().current].done = true;
  st().progress = true;
}  // returns to uc_link = the scheduler

/// Runs `kernel` (a closure calling the __global__ function) over the whole grid.
inline void launch(dim3 grid, dim3 block, const std::function<void()>& kernel) {
  state& s = st();
  s.grid_dim = grid;
  s.block_dim = block;
  s.kernel = &kernel;
  const unsigned n = block.x * block.y * block.z;
  constexpr std::size_t stack_bytes = 64 * 1024;
  s.fibers.clear();
  s.fibers.resize(n);  // never resized again: a ucontext_t points into itself
  for (auto& f : s.fibers) f.stack.reset(new char[stack_bytes]);
  s.warp_barriers.assign((n + 31) / 32, barrier{});
  s.warp_values.assign((n + 31) / 32, {});
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        s.block_idx = dim3(bx, by, bz);
        s.block_barrier = barrier{};
        for (unsigned t = 0; t < n; ++t) {
          fiber& f = s.fibers[t];
          f.done = false;
          f.tid = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
          getcontext(&f.ctx);
          f.ctx.uc_stack.ss_sp = f.stack.get();
          f.ctx.uc_stack.ss_size = stack_bytes;
          f.ctx.uc_link = &s.scheduler;
          makecontext(&f.ctx, entry, 0);
        }
        for (;;) {
          bool all_done = true;
          s.progress = false;
          for (unsigned t = 0; t < n; ++t) {
            if (s.fibers[t].done) continue;
            all_done = false;
            s.current = t;
            swapcontext(&s.scheduler, &s.fibers[t].ctx);
          }
          if (all_done) break;
          if (!s.progress)
            throw std::logic_error("emulator: deadlock (barrier not reached by all)");
        }
      }
}

}  // namespace nat_emu

// The CUDA vocabulary the kernel headers use.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define threadIdx (::nat_emu::thread_idx())
#define blockIdx (::nat_emu::st().block_idx)
#define blockDim (::nat_emu::st().block_dim)
#define gridDim (::nat_emu::st().grid_dim)
#define __syncthreads() ::nat_emu::syncthreads()
#define __shfl_down_sync(mask, v, delta) ::nat_emu::shfl_down((v), (delta))
#define rsqrtf(x) (1.f / std::sqrt(x))
