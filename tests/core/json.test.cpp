#include <doctest/doctest.h>

#include <nat/core/json.hpp>
#include <nat/core/subnet_config.hpp>

TEST_CASE("json: parse and dump round-trip, order kept") {
  const std::string text =
      R"({"b":1,"a":[1,2.5,-3e2,true,false,null],"s":"x\"y\\z\n\u00e9","o":{"k":{}},"e":[]})";
  const auto v = nat::json::parse(text);
  CHECK(v.at("b").as_int() == 1);
  CHECK(v.at("a")[1].as_number() == 2.5);
  CHECK(v.at("a")[2].as_number() == -300.0);
  CHECK(v.at("a")[3].as_bool());
  CHECK(v.at("a")[5].is_null());
  CHECK(v.at("s").as_string() == "x\"y\\z\n\xc3\xa9");
  CHECK(v.as_object().front().first == "b");
  CHECK(nat::json::parse(v.dump()) == v);
  CHECK(nat::json::parse(v.dump(2)) == v);
}

TEST_CASE("json: numbers round-trip exactly") {
  for (double d : {0.1, 1.0 / 3.0, 1e-300, 123456789.125, -2.5e17, 6.02214076e23}) {
    nat::json::value v(d);
    CHECK(nat::json::parse(v.dump()).as_number() == d);
  }
  CHECK(nat::json::value(42).dump() == "42");
}

TEST_CASE("json: malformed text is a config_error with the offset") {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "tru", "[1] x",
                          "{\"a\":1,}", "\"\\q\"", "-"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(nat::json::parse(bad), nat::config_error);
  }
  CHECK_THROWS_WITH_AS(nat::json::parse("[1,]"), doctest::Contains("offset"), nat::config_error);
}

TEST_CASE("json: typed access errors name what was expected") {
  const auto v = nat::json::parse(R"({"x":"s","n":1.5})");
  CHECK_THROWS_AS(v.at("x").as_number(), nat::config_error);
  CHECK_THROWS_AS(v.at("n").as_int(), nat::config_error);
  CHECK_THROWS_WITH_AS(v.at("missing"), doctest::Contains("missing"), nat::config_error);
}

TEST_CASE("subnet_config: JSON round trip and validation") {
  nat::subnet_config c;
  c.r = 224;
  c.w = 1.2;
  c.d = {2, 3};
  c.ks = {3, 5, 7, 3, 5};
  c.e = {3, 4, 6, 6, 3};
  CHECK_NOTHROW(c.validate());
  const auto back = nat::parse_subnet_config(nat::to_json(c).dump());
  CHECK(back == c);
  CHECK(nat::to_json(c).dump() ==
        R"({"r":224,"w":1.2,"ks":[3,5,7,3,5],"e":[3,4,6,6,3],"d":[2,3]})");
  auto bad = c;
  bad.ks.pop_back();
  CHECK_THROWS_AS(bad.validate(), nat::config_error);
  CHECK_THROWS_AS(nat::parse_subnet_config(R"({"r":224,"ks":[3],"e":[3]})"), nat::config_error);
}
