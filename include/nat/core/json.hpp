#pragma once
/// \file A small JSON value with a strict parser and a deterministic writer.
///
/// nat writes configs, archives (one JSON object per line) and reports as JSON. A full JSON library
/// is not among the allowed dependencies and nat needs only RFC 8259 values, so this is a compact
/// one: objects keep insertion order (stable, diff-friendly files), numbers are doubles written
/// with round-trip precision.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "nat/core/error.hpp"

namespace nat::json {

class value;
/// JSON array.
using array = std::vector<value>;
/// JSON object; insertion order is kept.
using object = std::vector<std::pair<std::string, value>>;

/// One JSON value: null, bool, number, string, array or object.
class value {
 public:
  value() = default;
  value(std::nullptr_t) {}
  value(bool b) : v_(b) {}
  value(double d) : v_(d) {}
  value(int i) : v_(static_cast<double>(i)) {}
  value(long i) : v_(static_cast<double>(i)) {}
  value(long long i) : v_(static_cast<double>(i)) {}
  value(unsigned i) : v_(static_cast<double>(i)) {}
  value(unsigned long i) : v_(static_cast<double>(i)) {}
  value(unsigned long long i) : v_(static_cast<double>(i)) {}
  value(const char* s) : v_(std::string(s)) {}
  value(std::string s) : v_(std::move(s)) {}
  value(array a) : v_(std::make_shared<array>(std::move(a))) {}
  value(object o) : v_(std::make_shared<object>(std::move(o))) {}
  template <class T>
  value(const std::vector<T>& xs) : v_(std::make_shared<array>()) {
    auto& a = *std::get<std::shared_ptr<array>>(v_);
    for (const auto& x : xs) a.emplace_back(x);
  }

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_number() const { return v_.index() == 2; }
  bool is_string() const { return v_.index() == 3; }
  bool is_array() const { return v_.index() == 4; }
  bool is_object() const { return v_.index() == 5; }

  /// The boolean; config_error when the value is not one.
  bool as_bool() const { return get<bool>("a boolean"); }
  /// The number; config_error when the value is not one.
  double as_number() const { return get<double>("a number"); }
  /// The number as an integer; config_error when it is not integral.
  long long as_int() const {
    const double d = as_number();
    if (std::floor(d) != d || std::fabs(d) > 9007199254740992.0)
      throw config_error("json: expected an integer, got " + dump());
    return static_cast<long long>(d);
  }
  /// The string; config_error when the value is not one.
  const std::string& as_string() const { return get<std::string>("a string"); }
  /// The array; config_error when the value is not one.
  const array& as_array() const { return *get<std::shared_ptr<array>>("an array"); }
  array& as_array() { return *get_mut<std::shared_ptr<array>>("an array"); }
  /// The object; config_error when the value is not one.
  const object& as_object() const { return *get<std::shared_ptr<object>>("an object"); }
  object& as_object() { return *get_mut<std::shared_ptr<object>>("an object"); }

  /// True when this is an object holding `key`.
  bool contains(const std::string& key) const {
    if (!is_object()) return false;
    for (const auto& kv : as_object())
      if (kv.first == key) return true;
    return false;
  }
  /// Member `key` of an object; config_error naming the key when it is missing.
  const value& at(const std::string& key) const {
    for (const auto& kv : as_object())
      if (kv.first == key) return kv.second;
    throw config_error("json: missing key \"" + key + "\"");
  }
  /// Member `key`, inserted as null when missing (turns a null value into an object).
  value& operator[](const std::string& key) {
    if (is_null()) v_ = std::make_shared<object>();
    auto& o = as_object();
    for (auto& kv : o)
      if (kv.first == key) return kv.second;
    o.emplace_back(key, value());
    return o.back().second;
  }
  /// Element i of an array.
  const value& operator[](std::size_t i) const {
    const auto& a = as_array();
    if (i >= a.size())
      throw config_error("json: index " + std::to_string(i) + " out of range (size " +
                         std::to_string(a.size()) + ")");
    return a[i];
  }

  /// Compact (indent < 0) or pretty-printed text.
  std::string dump(int indent = -1) const {
    std::string out;
    write(out, indent, 0);
    return out;
  }

  friend bool operator==(const value& a, const value& b) {
    if (a.v_.index() != b.v_.index()) return false;
    if (a.is_array()) return a.as_array() == b.as_array();
    if (a.is_object()) return a.as_object() == b.as_object();
    return a.v_ == b.v_;
  }
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }

 private:
  template <class T>
  const T& get(const char* what) const {
    if (auto p = std::get_if<T>(&v_)) return *p;
    throw config_error(std::string("json: expected ") + what + ", got " + dump());
  }
  template <class T>
  T& get_mut(const char* what) {
    if (auto p = std::get_if<T>(&v_)) return *p;
    throw config_error(std::string("json: expected ") + what + ", got " + dump());
  }

  static void write_string(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += '"';
  }

  static void write_number(std::string& out, double d) {
    if (!std::isfinite(d)) {
      out += "null";  // JSON has no NaN/inf; readers see a missing value rather than invalid text
      return;
    }
    char buf[32];
    if (std::floor(d) == d && std::fabs(d) < 1e15) {
      std::snprintf(buf, sizeof buf, "%.0f", d);
    } else {
      std::snprintf(buf, sizeof buf, "%.17g", d);
      // Prefer the shortest representation that round-trips.
      for (int prec = 6; prec < 17; ++prec) {
        char b2[32];
        std::snprintf(b2, sizeof b2, "%.*g", prec, d);
        if (std::strtod(b2, nullptr) == d) {
          std::snprintf(buf, sizeof buf, "%s", b2);
          break;
        }
      }
    }
    out += buf;
  }

  void write(std::string& out, int indent, int depth) const {
    auto newline = [&](int d) {
      if (indent < 0) return;
      out += '\n';
      out.append(static_cast<std::size_t>(indent * d), ' ');
    };
    switch (v_.index()) {
      case 0:
        out += "null";
        break;
      case 1:
        out += std::get<bool>(v_) ? "true" : "false";
        break;
      case 2:
        write_number(out, std::get<double>(v_));
        break;
      case 3:
        write_string(out, std::get<std::string>(v_));
        break;
      case 4: {
        const auto& a = as_array();
        out += '[';
        // Arrays of scalars stay on one line even when pretty-printing: configs hold many short
        // lists.
        bool scalars = true;
        for (const auto& x : a) scalars = scalars && !x.is_array() && !x.is_object();
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (i) out += indent >= 0 && scalars ? ", " : ",";
          if (!scalars) newline(depth + 1);
          a[i].write(out, indent, depth + 1);
        }
        if (!scalars && !a.empty()) newline(depth);
        out += ']';
        break;
      }
      default: {
        const auto& o = as_object();
        out += '{';
        for (std::size_t i = 0; i < o.size(); ++i) {
          if (i) out += ',';
          newline(depth + 1);
          write_string(out, o[i].first);
          out += indent >= 0 ? ": " : ":";
          o[i].second.write(out, indent, depth + 1);
        }
        if (!o.empty()) newline(depth);
        out += '}';
      }
    }
  }

  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>,
               std::shared_ptr<object>>
      v_{nullptr};
};

namespace detail {

class parser {
 public:
  explicit parser(const std::string& s) : s_(s) {}

  value parse_document() {
    value v = parse_value(0);
    skip_ws();
    if (i_ != s_.size()) fail("unexpected trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw config_error("json::parse: " + what + " at offset " + std::to_string(i_));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool consume(const char* lit) {
    std::size_t n = 0;
    while (lit[n]) ++n;
    if (s_.compare(i_, n, lit) == 0) {
      i_ += n;
      return true;
    }
    return false;
  }
  value parse_value(int depth) {
    if (depth > 512) fail("nesting too deep");
    skip_ws();
    if (i_ >= s_.size()) fail("unexpected end of input");
    const char c = s_[i_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return value(parse_string());
    if (consume("true")) return value(true);
    if (consume("false")) return value(false);
    if (consume("null")) return value();
    if (c == '-' || (c >= '0' && c <= '9')) return value(parse_number());
    fail(std::string("unexpected character '") + c + "'");
  }
  value parse_object(int depth) {
    ++i_;
    object o;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return value(std::move(o));
    }
    for (;;) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string key");
      std::string key = parse_string();
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') fail("expected ':'");
      ++i_;
      o.emplace_back(std::move(key), parse_value(depth + 1));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return value(std::move(o));
      }
      fail("expected ',' or '}'");
    }
  }
  value parse_array(int depth) {
    ++i_;
    array a;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return value(std::move(a));
    }
    for (;;) {
      a.push_back(parse_value(depth + 1));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return value(std::move(a));
      }
      fail("expected ',' or ']'");
    }
  }
  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::uint32_t parse_hex4() {
    if (i_ + 4 > s_.size()) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= static_cast<std::uint32_t>(h - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
    }
    return v;
  }
  std::string parse_string() {
    ++i_;
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      const char e = s_[i_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = parse_hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (!consume("\\u")) fail("unpaired surrogate");
            const std::uint32_t lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(std::string("bad escape '\\") + e + "'");
      }
    }
    fail("unterminated string");
  }
  double parse_number() {
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&] {
      const std::size_t b = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ - b;
    };
    if (i_ < s_.size() && s_[i_] == '0')
      ++i_;
    else if (digits() == 0)
      fail("bad number");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (digits() == 0) fail("bad fraction");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (digits() == 0) fail("bad exponent");
    }
    return std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

}  // namespace detail

/// Parses a complete JSON document; config_error with the offset on malformed text.
inline value parse(const std::string& text) { return detail::parser(text).parse_document(); }

}  // namespace nat::json
