// safetensors: byte layout (hand-built file), round trip, strict loading into tensors, truncation.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <nat/core/file.hpp>
#include <nat/io/safetensors.hpp>
#include <string>

namespace {
struct temp_path {
  std::string path;
  explicit temp_path(const char* name) : path(name) {}
  ~temp_path() { std::remove(path.c_str()); }
};
}  // namespace

TEST_CASE("safetensors: reads a hand-built file (layout of the format's specification)") {
  // header {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} then 1.5f, -2.0f
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header;
  const float v[2] = {1.5f, -2.0f};
  bytes.append(reinterpret_cast<const char*>(v), 8);
  temp_path f("st_hand.safetensors");
  nat::write_file_atomic(f.path, bytes);
  auto m = nat::io::load_safetensors<double>(f.path);
  REQUIRE(m.count("a") == 1);
  CHECK(m.at("a").shape() == nat::shape{2});
  CHECK(m.at("a").to_vector() == std::vector<double>{1.5, -2.0});
}

TEST_CASE("safetensors: save -> load round trip keeps names, shapes, values and metadata") {
  temp_path f("st_roundtrip.safetensors");
  auto a = nat::tensorf::randn({3, 4, 1, 1}, 1);
  auto b = nat::tensorf::randn({5}, 2);
  auto c = nat::tensorf::randn({6, 7}, 3).narrow(1, 2, 3);  // non-contiguous view
  nat::io::save_safetensors<float>(
      f.path, {{"blocks.1.conv.point_linear.conv.conv.weight", a}, {"b", b}, {"c", c}},
      {{"format", "pt"}});
  std::string bytes = nat::read_file(f.path);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK((8 + n) % 8 == 0);  // data aligned
  std::map<std::string, std::string> meta;
  auto m = nat::io::load_safetensors<float>(f.path, &meta);
  CHECK(meta.at("format") == "pt");
  CHECK(m.at("blocks.1.conv.point_linear.conv.conv.weight").to_vector() == a.to_vector());
  CHECK(m.at("blocks.1.conv.point_linear.conv.conv.weight").shape() == a.shape());
  CHECK(m.at("b").to_vector() == b.to_vector());
  CHECK(m.at("c").to_vector() == c.to_vector());
  CHECK(m.at("c").shape() == nat::shape{6, 3});
}

TEST_CASE("safetensors: load_into lists missing/extra/misshaped tensors and changes nothing") {
  temp_path f("st_into.safetensors");
  auto a = nat::tensorf::randn({2, 3}, 1), b = nat::tensorf::randn({4}, 2);
  nat::io::save_safetensors<float>(f.path, {{"a", a}, {"b", b}});
  auto x = nat::tensorf::zeros({2, 3}), y = nat::tensorf::zeros({4});
  nat::io::load_safetensors_into<float>(f.path, {{"a", x}, {"b", y}});
  CHECK(x.to_vector() == a.to_vector());
  CHECK(y.to_vector() == b.to_vector());

  auto x2 = nat::tensorf::zeros({2, 3}), z = nat::tensorf::zeros({5}), w = nat::tensorf::zeros({1});
  try {
    nat::io::load_safetensors_into<float>(f.path, {{"a", x2}, {"b", z}, {"c", w}});
    FAIL("expected config_error");
  } catch (const nat::config_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("missing: c") != std::string::npos);
    CHECK(msg.find("wrong shape: b") != std::string::npos);
  }
  CHECK(x2.to_vector() == std::vector<float>(6, 0.f));  // nothing half-loaded
  try {
    nat::io::load_safetensors_into<float>(f.path, {{"a", x2}});
    FAIL("expected config_error");
  } catch (const nat::config_error& e) {
    CHECK(std::string(e.what()).find("unexpected: b") != std::string::npos);
  }
  CHECK(x2.to_vector() == std::vector<float>(6, 0.f));
  nat::io::load_safetensors_into<float>(f.path, {{"a", x2}}, /*strict=*/false);
  CHECK(x2.to_vector() == a.to_vector());
}

TEST_CASE("safetensors: truncated or corrupt files raise io_error") {
  temp_path f("st_trunc.safetensors");
  auto a = nat::tensorf::randn({16}, 1);
  nat::io::save_safetensors<float>(f.path, {{"a", a}});
  const std::string bytes = nat::read_file(f.path);
  temp_path g("st_trunc2.safetensors");
  for (std::size_t cut : {std::size_t(0), std::size_t(5), std::size_t(20), bytes.size() - 1}) {
    CAPTURE(cut);
    nat::write_file_atomic(g.path, bytes.substr(0, cut));
    CHECK_THROWS_AS(nat::io::load_safetensors<float>(g.path), nat::io_error);
  }
  std::string bad = bytes;
  bad[9] = '#';  // break the JSON header
  nat::write_file_atomic(g.path, bad);
  CHECK_THROWS_AS(nat::io::load_safetensors<float>(g.path), nat::io_error);
  CHECK_THROWS_AS(nat::io::load_safetensors<float>("does_not_exist.safetensors"), nat::io_error);
}
