#pragma once
/// \file A progress bar for long phases (training, evaluation, search) on stderr.
///
/// Draws in place only when stderr is a terminal and the bar is not quiet, so logs and CI output
/// stay clean; otherwise it prints nothing until finish(), which writes one summary line unless
/// quiet.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>

#include "nat/core/timer.hpp"

namespace nat {

/// Progress of `total` steps with a free-form status (loss, accuracy, images/s) and an ETA.
class progress_bar {
 public:
  /// `label` names the phase; `quiet` silences it entirely.
  progress_bar(std::string label, std::size_t total, bool quiet = false)
      : label_(std::move(label)), total_(total), quiet_(quiet), tty_(::isatty(2) == 1) {}

  /// Marks `done` steps complete and redraws at most ~10 times a second.
  void update(std::size_t done, const std::string& status = "") {
    done_ = done;
    status_ = status;
    if (quiet_ || !tty_) return;
    const double now = clock_.seconds();
    if (done_ < total_ && now - last_draw_ < 0.1) return;
    last_draw_ = now;
    draw();
  }

  /// A resumed task: `done` steps were finished by an earlier run in `seconds_before` seconds.
  /// The ETA counts only the rate of this run; the final line gives the whole task's time and,
  /// apart, this run's share, so a resumed epoch does not read as a fast one.
  void start_at(std::size_t done, double seconds_before = 0) {
    done_ = first_ = done;
    seconds_before_ = seconds_before;
  }

  /// Ends the bar with a final line (also when stderr is not a terminal, unless quiet).
  void finish(const std::string& status = "") {
    if (!status.empty()) status_ = status;
    if (quiet_) return;
    if (tty_) {
      draw();
      std::fputc('\n', stderr);
    } else if (first_ > 0) {
      std::fprintf(stderr, "%s: %zu/%zu in %.1fs (resumed after %zu; %zu in %.1fs this run) %s\n",
                   label_.c_str(), done_, total_, seconds_before_ + clock_.seconds(), first_,
                   done_ - first_, clock_.seconds(), status_.c_str());
    } else {
      std::fprintf(stderr, "%s: %zu/%zu in %.1fs %s\n", label_.c_str(), done_, total_,
                   clock_.seconds(), status_.c_str());
    }
    std::fflush(stderr);
  }

  /// Seconds since the bar was created.
  double elapsed() const { return clock_.seconds(); }

 private:
  static std::string format_time(double s) {
    char buf[32];
    const long t = static_cast<long>(s + 0.5);
    if (t >= 3600)
      std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
      std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
  }
  void draw() const {
    const int width = 24;
    const double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    const double el = clock_.seconds();
    const double eta = done_ > first_ ? el / static_cast<double>(done_ - first_) *
                                            static_cast<double>(total_ - done_)
                                      : 0;
    std::fprintf(stderr, "\r\033[K%s [%s] %zu/%zu %s<%s %s", label_.c_str(), bar.c_str(), done_,
                 total_, format_time(el).c_str(), format_time(eta).c_str(), status_.c_str());
    std::fflush(stderr);
  }

  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::size_t first_ = 0;
  double seconds_before_ = 0;
  bool quiet_;
  bool tty_;
  std::string status_;
  timer clock_;
  double last_draw_ = -1.0;
};

}  // namespace nat
