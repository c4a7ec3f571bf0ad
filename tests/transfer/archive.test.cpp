#include <doctest/doctest.h>

#include <cstdio>
#include <nat/transfer/archive.hpp>
#include <string>

namespace {
nat::transfer::archive_entry make_entry(int r, double acc) {
  nat::transfer::archive_entry e;
  e.iteration = 0;
  e.genome = {r, 0, 1, 1};
  e.config.r = r;
  e.config.d = {2};
  e.config.ks = {3, 5};
  e.config.e = {3, 6};
  e.encoding = "x" + std::to_string(r);
  e.val_acc = acc;
  e.costs = {{"macs", 1e6 * r}, {"params", 2.5}};
  return e;
}
struct temp_path {
  std::string path = "/tmp/nat_archive_test_" + std::to_string(::getpid()) + ".jsonl";
  ~temp_path() { std::remove(path.c_str()); }
};
}  // namespace

TEST_CASE("archive: entries and re-evaluations survive a reload") {
  temp_path t;
  {
    nat::transfer::archive a(t.path);
    a.add(make_entry(32, 90.5));
    auto e = make_entry(36, 91.0);
    e.predicted_err = 8.75;
    e.iteration = 1;
    a.add(e);
    a.reevaluate(0, 2, 92.25);
    CHECK_THROWS_AS(a.add(make_entry(32, 1.0)), nat::config_error);
  }
  nat::transfer::archive b(t.path);
  REQUIRE(b.size() == 2);
  CHECK(b[0].val_acc == 92.25);
  CHECK(b[0].evaluated_at == 2);
  CHECK(b[0].reevaluated);
  CHECK(!b[1].reevaluated);
  CHECK(b[1].iteration == 1);
  CHECK(b[1].predicted_err == 8.75);
  CHECK(std::isnan(b[0].predicted_err));
  CHECK(b[1].cost("macs") == 36e6);
  CHECK(b[1].config == make_entry(36, 0).config);
  CHECK(b.find(make_entry(36, 0).config) == 1);
  CHECK_THROWS_AS(b[1].cost("latency"), nat::config_error);
}

TEST_CASE("archive: a torn last line is dropped, a corrupt line is an io_error naming the line") {
  temp_path t;
  {
    nat::transfer::archive a(t.path);
    a.add(make_entry(32, 90.0));
    a.add(make_entry(40, 91.0));
  }
  std::string text = nat::read_file(t.path);
  nat::write_file_atomic(t.path, text + R"({"type":"eval","id":2,"itera)");
  CHECK(nat::transfer::archive(t.path).size() == 2);
  const auto first_nl = text.find('\n');
  std::string corrupt = text.substr(0, first_nl + 1) + "{\"type\":\"eval\",garbage}\n";
  nat::write_file_atomic(t.path, corrupt);
  CHECK_THROWS_WITH_AS(nat::transfer::archive(t.path), doctest::Contains("line 2"), nat::io_error);
  nat::write_file_atomic(t.path, text.substr(first_nl + 1));  // id 1 without id 0
  CHECK_THROWS_WITH_AS(nat::transfer::archive(t.path), doctest::Contains("out of sequence"),
                       nat::io_error);
}

TEST_CASE("archive: further tasks' accuracies are optional fields that survive a reload") {
  temp_path t;
  {
    nat::transfer::archive a(t.path);
    a.add(make_entry(32, 90.0));  // a single-dataset line, as every run wrote before
    auto e = make_entry(40, 91.0);
    e.task_accs = {{"digits", 70.5}, {"b", 60.0}};
    a.add(e);
    a.reevaluate(1, 2, 92.0, {{"digits", 71.0}, {"b", 61.5}});
    a.reevaluate(0, 2, 90.5);
  }
  const std::string text = nat::read_file(t.path);
  CHECK(text.substr(0, text.find('\n')).find("val_accs") == std::string::npos);
  nat::transfer::archive b(t.path);
  REQUIRE(b.size() == 2);
  CHECK(b[0].task_accs.empty());
  CHECK(b[0].val_acc == 90.5);
  CHECK(b[1].val_acc == 92.0);
  CHECK(b[1].accuracy("") == 92.0);
  CHECK(b[1].accuracy("digits") == 71.0);
  CHECK(b[1].accuracy("b") == 61.5);
  CHECK(b[1].objective("err") == doctest::Approx(8.0));
  CHECK(b[1].objective("err:b") == doctest::Approx(38.5));
  CHECK(b[1].objective("macs") == 40e6);
  CHECK_THROWS_WITH_AS(b[0].objective("err:digits"), doctest::Contains("\"digits\""),
                       nat::config_error);
}
