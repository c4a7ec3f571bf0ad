#include <doctest/doctest.h>

#include <cstdio>
#include <nat/transfer/report.hpp>

TEST_CASE("report: CSV has the header and one line per row, JSON round-trips") {
  std::vector<nat::transfer::report_row> rows(2);
  rows[0].id = 3;
  rows[0].encoding = "0801";
  rows[0].values = {{"macs", 12.5e6}, {"val_acc", 91.25}, {"test_acc", 90.5}};
  rows[1].id = 7;
  rows[1].encoding = "0902";
  rows[1].values = {{"macs", 20e6}, {"val_acc", 92.0}};
  const std::string path = "/tmp/nat_report_test_" + std::to_string(::getpid()) + ".csv";
  nat::transfer::write_report_csv(path, rows, {"macs", "val_acc", "test_acc"});
  CHECK(nat::read_file(path) ==
        "id,encoding,macs,val_acc,test_acc\n3,0801,12500000,91.25,90.5\n"
        "7,0902,20000000,92,\n");
  std::remove(path.c_str());
  const auto j = nat::transfer::report_json(rows);
  CHECK(j[1].at("val_acc").as_number() == 92.0);
  CHECK(nat::json::parse(j.dump()) == j);
}

TEST_CASE("report: SVG has one marker per point and the HV panel") {
  nat::transfer::front_plot p;
  for (int i = 0; i < 5; ++i) {
    nat::transfer::report_row r;
    r.id = static_cast<std::size_t>(i);
    r.values = {{"macs", (10 + i) * 1e6}, {"test_acc", 85.0 + i}, {"params", 1.0 + i}};
    (i % 2 ? p.front : p.archive).push_back(r);
  }
  p.colour_column = "params";
  p.hypervolume = {0.1, 0.2, 0.25};
  const auto svg = nat::transfer::render_front_svg(p);
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = svg.find(needle); pos != std::string::npos; pos = svg.find(needle, pos + 1))
      ++n;
    return n;
  };
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(count("<circle") == 5 + 2);  // points + two legend markers
  CHECK(count("<polyline") == 2);    // front line + HV line
  CHECK(svg.find("nan") == std::string::npos);
}

TEST_CASE("report: an archive entry's row has its costs and the accuracy on every task") {
  nat::transfer::archive_entry e;
  e.id = 4;
  e.encoding = "0801";
  e.val_acc = 91.5;
  e.costs = {{"macs", 3e6}};
  e.task_accs = {{"digits", 80.25}};
  const auto r = nat::transfer::archive_report_row(e);
  CHECK(r.id == 4);
  CHECK(r.encoding == "0801");
  CHECK(r.get("macs") == 3e6);
  CHECK(r.get("val_acc") == 91.5);
  CHECK(r.get("val_acc:digits") == 80.25);
  CHECK(std::isnan(r.get("test_acc")));
}
