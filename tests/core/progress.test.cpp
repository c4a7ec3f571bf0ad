#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nat/core/file.hpp>
#include <nat/core/progress.hpp>
#include <string>

namespace {

// Runs `f` with stderr redirected to a file and returns what it wrote there; the bar then sees a
// non-terminal stderr, as in a log.
template <class F>
std::string captured_stderr(F&& f) {
  const std::string path = "/tmp/nat_progress_test_" + std::to_string(::getpid());
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  std::FILE* file = std::fopen(path.c_str(), "w");
  REQUIRE(file != nullptr);
  ::dup2(::fileno(file), 2);
  f();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(file);
  std::string text = nat::read_file(path);
  std::remove(path.c_str());
  return text;
}

}  // namespace

TEST_CASE("progress_bar: a finished bar writes one line to a non-terminal stderr") {
  const auto text = captured_stderr([] {
    nat::progress_bar bar("epoch 1/2", 4);
    for (std::size_t i = 1; i <= 4; ++i) bar.update(i, "loss 1");
    bar.finish();
  });
  CHECK(text.rfind("epoch 1/2: 4/4 in 0.", 0) == 0);
  CHECK(text.find("loss 1\n") != std::string::npos);
  CHECK(text.find("resumed") == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

TEST_CASE("progress_bar: a resumed bar counts the earlier run's time and says what this run did") {
  // 300 s before the resume: the line must not present this run's fraction of a second as the
  // whole task's time (a resumed training epoch once read as 40 % faster than it ran).
  const auto text = captured_stderr([] {
    nat::progress_bar bar("epoch 2/12", 429);
    bar.start_at(169, 300.0);
    bar.update(429, "ok");
    bar.finish();
  });
  CHECK(text.rfind("epoch 2/12: 429/429 in 300.", 0) == 0);
  CHECK(text.find("(resumed after 169; 260 in 0.") != std::string::npos);
  CHECK(text.find(" this run) ok\n") != std::string::npos);
}

TEST_CASE("progress_bar: a quiet bar writes nothing") {
  const auto text = captured_stderr([] {
    nat::progress_bar bar("x", 2, /*quiet=*/true);
    bar.start_at(1, 5.0);
    bar.update(2);
    bar.finish("done");
  });
  CHECK(text.empty());
}
