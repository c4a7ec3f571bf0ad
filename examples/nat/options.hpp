#pragma once
// Typed option values shared by the `nat` commands.
#include <string>
#include <vector>

#include "cli.hpp"

namespace nat_cli {

/// Positive integers separated by commas ("28,32,36"); usage_error naming the option otherwise.
inline std::vector<std::size_t> parse_sizes(const std::string& text, const char* what) {
  std::vector<std::size_t> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = text.find(',', pos);
    const std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
    }
    if (used != item.size() || v <= 0)
      throw usage_error(std::string("--") + what +
                        " expects positive integers separated by commas, got \"" + text + "\"");
    out.push_back(static_cast<std::size_t>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

/// A floating-point option; usage_error naming it when the text is not a number.
inline double get_double(const parsed_args& a, const std::string& name, double fallback) {
  if (!a.has(name)) return fallback;
  try {
    std::size_t used = 0;
    const double v = std::stod(a.get(name), &used);
    if (used == a.get(name).size()) return v;
  } catch (const std::exception&) {
  }
  throw usage_error("--" + name + " expects a number, got \"" + a.get(name) + "\"");
}

}  // namespace nat_cli
