#include <doctest/doctest.h>

#include <nat/data/csv.hpp>

#include "test_files.hpp"

using nat::data::csv_header;
using nat::data::csv_options;
using nat::data::read_pixel_csv;

namespace {
csv_options shape_2x2() {
  csv_options o;
  o.height = 2;
  o.width = 2;
  return o;
}
template <class F>
void check_io_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL("expected io_error");
  } catch (const nat::io_error& e) {
    const std::string m = e.what();
    for (const auto& p : parts) CHECK_MESSAGE(m.find(p) != std::string::npos, m);
  }
}
}  // namespace

TEST_CASE("read_pixel_csv reads a label column and pixels, with or without a header") {
  nat_test::temp_dir dir;
  const std::string body = "1,0,10,20,255\r\n0, 5 ,6,7,8\n\n";
  const auto with = read_pixel_csv(dir.write("h.csv", "label,p0,p1,p2,p3\n" + body), shape_2x2());
  const auto without = read_pixel_csv(dir.write("n.csv", body), shape_2x2());
  for (const auto* ds : {&with, &without}) {
    REQUIRE(ds->size() == 2);
    CHECK(ds->labels() == std::vector<int>{1, 0});
    CHECK(ds->pixels() == std::vector<std::uint8_t>{0, 10, 20, 255, 5, 6, 7, 8});
    CHECK(ds->n_classes() == 2);  // inferred: largest label + 1
  }
  auto o = shape_2x2();
  o.header = csv_header::present;  // the first (numeric) row is skipped
  CHECK(read_pixel_csv(dir.write("p.csv", body), o).size() == 1);
}

TEST_CASE("read_pixel_csv: label in the last column, rescaling, channels") {
  nat_test::temp_dir dir;
  csv_options o;
  o.channels = 2;
  o.height = 1;
  o.width = 1;
  o.label_column = -1;
  o.pixel_max = 16;
  o.n_classes = 4;
  const auto ds = read_pixel_csv(dir.write("l.csv", "0,16,3\n8,1,2\n"), o);
  CHECK(ds.labels() == std::vector<int>{3, 2});
  // round(v·255/16): 0→0, 16→255, 8→127.5→128 (half up), 1→15.94→16.
  CHECK(ds.pixels() == std::vector<std::uint8_t>{0, 255, 128, 16});
  CHECK(ds.n_classes() == 4);
}

TEST_CASE("read_pixel_csv rejects bad cells, ragged rows and bad labels, naming file and line") {
  nat_test::temp_dir dir;
  const auto o = shape_2x2();
  const std::string p1 = dir.write("nan.csv", "1,2,3,4,5\n1,2,x3,4,5\n");
  check_io_error([&] { read_pixel_csv(p1, o); },
                 {"read_pixel_csv", p1, "line 2", "column 3", "x3"});
  const std::string p2 = dir.write("ragged.csv", "1,2,3,4,5\n1,2,3,4\n");
  check_io_error([&] { read_pixel_csv(p2, o); }, {p2, "line 2", "expected 5", "got 4"});
  const std::string p3 = dir.write("long.csv", "1,2,3,4,5,6\n");
  check_io_error([&] { read_pixel_csv(p3, o); }, {p3, "line 1", "got 6"});
  const std::string p4 = dir.write("neg.csv", "a,b,c,d,e\n1,-2,3,4,5\n");
  check_io_error([&] { read_pixel_csv(p4, o); }, {p4, "line 2", "-2"});
  const std::string p5 = dir.write("big.csv", "1,2,3,4,256\n");
  check_io_error([&] { read_pixel_csv(p5, o); }, {p5, "256", "pixel_max"});
  auto o10 = o;
  o10.n_classes = 10;
  const std::string p6 = dir.write("label.csv", "1,2,3,4,5\n10,2,3,4,5\n");
  check_io_error([&] { read_pixel_csv(p6, o10); }, {p6, "line 2", "label 10"});
  check_io_error([&] { read_pixel_csv(dir.write("empty.csv", "h,a,b,c,d\n"), o); }, {"no data"});
  auto no_header = o;
  no_header.header = csv_header::absent;  // then a non-numeric first row is an error, not a header
  check_io_error([&] { read_pixel_csv(dir.write("f.csv", "1,2.5,3,4,5\n"), no_header); },
                 {"line 1", "column 2", "2.5"});
  CHECK_THROWS_AS(read_pixel_csv(p1, csv_options{}), nat::config_error);  // no shape given
}

#if defined(NAT_WITH_ZLIB)
TEST_CASE("read_pixel_csv reads gzip CSV") {
  nat_test::temp_dir dir;
  const auto ds = read_pixel_csv(dir.write("g.csv.gz", nat_test::gzip("3,1,2,3,4\n")), shape_2x2());
  CHECK(ds.labels() == std::vector<int>{3});
  CHECK(ds.pixels() == std::vector<std::uint8_t>{1, 2, 3, 4});
}
#endif

TEST_CASE("scikit-learn digits: 1797 8x8 images rescaled to 0..255") {
  if (!nat::data::detail::file_exists(nat::data::default_sklearn_digits_path)) {
    MESSAGE("skipped: " << nat::data::default_sklearn_digits_path
                        << " is absent (apt-get install python3-sklearn)");
    return;
  }
  if (!nat::data::with_zlib()) {  // the file is gzip: a clear not_supported, not garbage
    CHECK_THROWS_AS(nat::data::load_sklearn_digits(), nat::not_supported);
    return;
  }
  const auto ds = nat::data::load_sklearn_digits();
  CHECK(ds.size() == 1797);
  CHECK(ds.channels() == 1);
  CHECK(ds.height() == 8);
  CHECK(ds.width() == 8);
  CHECK(ds.n_classes() == 10);
  // Row 1 of digits.csv.gz: 0,0,5,13,9,1,0,0,… label 0 (zcat | head -1).
  CHECK(ds.label(0) == 0);
  CHECK(ds.image(0)[2] == 80);   // round(5·255/16) = round(79.69)
  CHECK(ds.image(0)[3] == 207);  // round(13·255/16) = round(207.19)
  CHECK(ds.image(0)[4] == 143);  // round(9·255/16) = round(143.44)
  const auto counts = ds.class_counts();
  for (auto c : counts) CHECK((c >= 174 && c <= 183));  // sklearn documents ~180 per class
}
