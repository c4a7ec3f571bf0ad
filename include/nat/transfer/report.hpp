#pragma once
/// \file Reports of a run: the front as CSV and JSON, and an SVG of accuracy against MACs (archive
/// in grey, front coloured by a third objective when there is one) beside the hypervolume of each
/// iteration.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/file.hpp"
#include "nat/core/json.hpp"
#include "nat/transfer/archive.hpp"

namespace nat::transfer {

/// One row of a report: identity plus named numeric columns (macs, params, val_acc, test_acc, ...).
struct report_row {
  std::size_t id = 0;
  std::string encoding;
  std::vector<std::pair<std::string, double>> values;

  /// Value of column `name`, NaN when absent.
  double get(const std::string& name) const {
    for (const auto& kv : values)
      if (kv.first == name) return kv.second;
    return std::nan("");
  }
};

/// The report row of an archive entry: its cheap objectives, `val_acc` and, in a multi-dataset run,
/// `val_acc:<task>` for every further task (top-1 in percent, latest evaluation).
inline report_row archive_report_row(const archive_entry& e) {
  report_row r;
  r.id = e.id;
  r.encoding = e.encoding;
  r.values = e.costs;
  r.values.emplace_back("val_acc", e.val_acc);
  for (const auto& kv : e.task_accs) r.values.emplace_back("val_acc:" + kv.first, kv.second);
  return r;
}

namespace detail {
inline std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}
/// "Nice" tick positions covering [lo, hi].
inline std::vector<double> ticks(double lo, double hi, int target = 6) {
  std::vector<double> t;
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) t.push_back(v);
  return t;
}
inline std::string fmt(double v, int prec = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", prec, v);
  return buf;
}
}  // namespace detail

/// Writes rows as CSV with a header: id, encoding, then `columns` in order (accuracies in percent).
inline void write_report_csv(const std::string& path, const std::vector<report_row>& rows,
                             const std::vector<std::string>& columns) {
  std::string out = "id,encoding";
  for (const auto& c : columns) out += "," + c;
  out += "\n";
  for (const auto& r : rows) {
    out += std::to_string(r.id) + "," + r.encoding;
    for (const auto& c : columns) out += "," + detail::csv_number(r.get(c));
    out += "\n";
  }
  write_file_atomic(path, out);
}

/// The rows as a JSON array of objects.
inline json::value report_json(const std::vector<report_row>& rows) {
  json::array a;
  for (const auto& r : rows) {
    json::value v;
    v["id"] = r.id;
    v["encoding"] = r.encoding;
    for (const auto& kv : r.values) v[kv.first] = kv.second;
    a.push_back(v);
  }
  return json::value(a);
}

/// What to draw in the front figure.
struct front_plot {
  std::string title = "NAT front";
  std::string x_column = "macs";  ///< x axis (scaled by x_scale, labelled x_label)
  double x_scale = 1e-6;
  std::string x_label = "MACs (M)";
  std::string y_column = "test_acc";  ///< y axis
  std::string y_label = "top-1 accuracy (%)";
  std::string colour_column;         ///< optional third objective shown as colour
  std::vector<report_row> archive;   ///< every evaluated subnet (grey)
  std::vector<report_row> front;     ///< non-dominated subnets (coloured, connected)
  std::vector<report_row> baseline;  ///< optional comparison set (e.g. random search), hollow
  std::string baseline_label = "random search";
  std::vector<double> hypervolume;  ///< one value per iteration (right panel)
};

/// Renders the figure as a standalone SVG document.
inline std::string render_front_svg(const front_plot& p) {
  using detail::fmt;
  const double W = 960, H = 480, pl = 70, pr = 20, pt = 40, pb = 55, split = 640;
  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(W) + "\" height=\"" + fmt(H) +
       "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
       "fill=\"white\"/>\n";
  s += "<text x=\"" + fmt(split / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
       detail::xml_escape(p.title) + "</text>\n";
  // Left panel: accuracy vs cost.
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300, clo = 1e300, chi = -1e300;
  auto extend = [&](const std::vector<report_row>& rows) {
    for (const auto& r : rows) {
      const double x = r.get(p.x_column) * p.x_scale, y = r.get(p.y_column);
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y),
      yhi = std::max(yhi, y);
      if (!p.colour_column.empty()) {
        const double c = r.get(p.colour_column);
        if (std::isfinite(c)) clo = std::min(clo, c), chi = std::max(chi, c);
      }
    }
  };
  extend(p.archive);
  extend(p.front);
  extend(p.baseline);
  if (xlo > xhi) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  if (xhi - xlo < 1e-12) xlo -= 0.5, xhi += 0.5;
  if (yhi - ylo < 1e-12) ylo -= 0.5, yhi += 0.5;
  const double xpad = 0.05 * (xhi - xlo), ypad = 0.05 * (yhi - ylo);
  xlo -= xpad, xhi += xpad, ylo -= ypad, yhi += ypad;
  const double x0 = pl, x1 = split - pr, y0 = H - pb, y1 = pt;
  auto X = [&](double v) { return x0 + (v - xlo) / (xhi - xlo) * (x1 - x0); };
  auto Y = [&](double v) { return y0 + (v - ylo) / (yhi - ylo) * (y1 - y0); };
  auto axes = [&](double ax0, double ax1, double ay0, double ay1, const std::vector<double>& xt,
                  const std::vector<double>& yt, auto xmap, auto ymap, const std::string& xl,
                  const std::string& yl) {
    s += "<rect x=\"" + fmt(ax0) + "\" y=\"" + fmt(ay1) + "\" width=\"" + fmt(ax1 - ax0) +
         "\" height=\"" + fmt(ay0 - ay1) + "\" fill=\"none\" stroke=\"#333\"/>\n";
    for (double t : xt)
      s += "<line x1=\"" + fmt(xmap(t), 6) + "\" x2=\"" + fmt(xmap(t), 6) + "\" y1=\"" + fmt(ay0) +
           "\" y2=\"" + fmt(ay1) + "\" stroke=\"#eee\"/><text x=\"" + fmt(xmap(t), 6) + "\" y=\"" +
           fmt(ay0 + 16) + "\" text-anchor=\"middle\">" + fmt(t) + "</text>\n";
    for (double t : yt)
      s += "<line x1=\"" + fmt(ax0) + "\" x2=\"" + fmt(ax1) + "\" y1=\"" + fmt(ymap(t), 6) +
           "\" y2=\"" + fmt(ymap(t), 6) + "\" stroke=\"#eee\"/><text x=\"" + fmt(ax0 - 6) +
           "\" y=\"" + fmt(ymap(t) + 4, 6) + "\" text-anchor=\"end\">" + fmt(t) + "</text>\n";
    s += "<text x=\"" + fmt((ax0 + ax1) / 2) + "\" y=\"" + fmt(ay0 + 36) +
         "\" text-anchor=\"middle\">" + detail::xml_escape(xl) + "</text>\n";
    s += "<text transform=\"translate(" + fmt(ax0 - 48) + "," + fmt((ay0 + ay1) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + detail::xml_escape(yl) + "</text>\n";
  };
  axes(x0, x1, y0, y1, detail::ticks(xlo, xhi), detail::ticks(ylo, yhi), X, Y, p.x_label,
       p.y_label);
  auto colour = [&](const report_row& r) -> std::string {
    if (p.colour_column.empty() || !(chi > clo)) return "#d62728";
    const double t = (r.get(p.colour_column) - clo) / (chi - clo);
    if (!std::isfinite(t)) return "#d62728";
    // Blue (low) to red (high).
    const int red = static_cast<int>(40 + 200 * t), blue = static_cast<int>(240 - 200 * t);
    char buf[16];
    std::snprintf(buf, sizeof buf, "#%02x40%02x", red, blue);
    return buf;
  };
  for (const auto& r : p.archive) {
    const double x = r.get(p.x_column) * p.x_scale, y = r.get(p.y_column);
    if (std::isfinite(x) && std::isfinite(y))
      s += "<circle cx=\"" + fmt(X(x), 6) + "\" cy=\"" + fmt(Y(y), 6) +
           "\" r=\"3\" fill=\"#bbb\"/>\n";
  }
  for (const auto& r : p.baseline) {
    const double x = r.get(p.x_column) * p.x_scale, y = r.get(p.y_column);
    if (std::isfinite(x) && std::isfinite(y))
      s += "<rect x=\"" + fmt(X(x) - 4, 6) + "\" y=\"" + fmt(Y(y) - 4, 6) +
           "\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n";
  }
  std::vector<std::pair<double, double>> line;
  for (const auto& r : p.front) {
    const double x = r.get(p.x_column) * p.x_scale, y = r.get(p.y_column);
    if (std::isfinite(x) && std::isfinite(y)) line.emplace_back(x, y);
  }
  std::sort(line.begin(), line.end());
  if (line.size() > 1) {
    s += "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"";
    for (const auto& q : line) s += fmt(X(q.first), 6) + "," + fmt(Y(q.second), 6) + " ";
    s += "\"/>\n";
  }
  for (const auto& r : p.front) {
    const double x = r.get(p.x_column) * p.x_scale, y = r.get(p.y_column);
    if (std::isfinite(x) && std::isfinite(y))
      s += "<circle cx=\"" + fmt(X(x), 6) + "\" cy=\"" + fmt(Y(y), 6) + "\" r=\"5\" fill=\"" +
           colour(r) + "\" stroke=\"black\" stroke-width=\"0.5\"><title>id " +
           std::to_string(r.id) + " " + r.encoding + "</title></circle>\n";
  }
  // Legend.
  double ly = pt + 14;
  s += "<circle cx=\"" + fmt(x0 + 14) + "\" cy=\"" + fmt(ly) +
       "\" r=\"3\" fill=\"#bbb\"/><text x=\"" + fmt(x0 + 24) + "\" y=\"" + fmt(ly + 4) +
       "\">archive</text>\n";
  ly += 16;
  s += "<circle cx=\"" + fmt(x0 + 14) + "\" cy=\"" + fmt(ly) +
       "\" r=\"5\" fill=\"#d62728\"/><text x=\"" + fmt(x0 + 24) + "\" y=\"" + fmt(ly + 4) +
       "\">front" +
       (p.colour_column.empty() ? std::string()
                                : " (colour: " + detail::xml_escape(p.colour_column) + ")") +
       "</text>\n";
  if (!p.baseline.empty()) {
    ly += 16;
    s += "<rect x=\"" + fmt(x0 + 10) + "\" y=\"" + fmt(ly - 4) +
         "\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"#1f77b4\"/><text x=\"" + fmt(x0 + 24) +
         "\" y=\"" + fmt(ly + 4) + "\">" + detail::xml_escape(p.baseline_label) + "</text>\n";
  }
  // Right panel: hypervolume per iteration.
  const double hx0 = split + 60, hx1 = W - pr;
  s += "<text x=\"" + fmt((hx0 + hx1) / 2) +
       "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">hypervolume</text>\n";
  if (!p.hypervolume.empty()) {
    double hlo = *std::min_element(p.hypervolume.begin(), p.hypervolume.end());
    double hhi = *std::max_element(p.hypervolume.begin(), p.hypervolume.end());
    if (hhi - hlo < 1e-12) hlo -= 0.01, hhi += 0.01;
    const double n = static_cast<double>(p.hypervolume.size() - 1);
    const double ilo = 0, ihi = std::max(1.0, n);
    auto HX = [&](double i) { return hx0 + (i - ilo) / (ihi - ilo) * (hx1 - hx0); };
    auto HY = [&](double v) { return y0 + (v - hlo) / (hhi - hlo) * (y1 - y0); };
    axes(hx0, hx1, y0, y1, detail::ticks(ilo, ihi, 4), detail::ticks(hlo, hhi, 5), HX, HY,
         "iteration", "normalised HV");
    s += "<polyline fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\" points=\"";
    for (std::size_t i = 0; i < p.hypervolume.size(); ++i)
      s += fmt(HX(static_cast<double>(i)), 6) + "," + fmt(HY(p.hypervolume[i]), 6) + " ";
    s += "\"/>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace nat::transfer
