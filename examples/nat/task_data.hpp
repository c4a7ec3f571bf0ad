#pragma once
// Datasets the `nat` commands know by name, with their splits and NAT's transforms, so every
// command reads data the same way.
#include <string>

#include "cli.hpp"
#include "nat/data/csv.hpp"
#include "nat/data/idx.hpp"
#include "nat/data/split.hpp"
#include "nat/data/transform.hpp"

namespace nat_cli {

/// A task's images: the official train and test splits (digits: a fixed 80/20 stratified split).
struct task_data {
  std::string name;
  nat::data::image_dataset train, test;
  bool flip = false;  ///< horizontal flips make sense for the images
};

/// Loads `name` ("fashion-mnist", "digits", or "idx:DIR" for any IDX set); `dir` overrides the
/// default location of Fashion-MNIST.
inline task_data load_task_data(const std::string& name, const std::string& dir) {
  task_data d;
  d.name = name;
  if (name == "fashion-mnist") {
    d.train = nat::data::load_fashion_mnist(nat::data::split::train, dir);
    d.test = nat::data::load_fashion_mnist(nat::data::split::test, dir);
    d.flip = true;  // garments are left-right symmetric
  } else if (name == "digits") {
    auto all = nat::data::load_sklearn_digits(dir);
    auto s = nat::data::train_validation_split(all, 0.2, 0, /*stratified=*/true);
    d.train = std::move(s.train);
    d.test = std::move(s.validation);
  } else if (name.rfind("idx:", 0) == 0) {
    d.train = nat::data::load_idx_dataset(name.substr(4), nat::data::split::train);
    d.test = nat::data::load_idx_dataset(name.substr(4), nat::data::split::test);
  } else {
    throw usage_error("unknown dataset \"" + name +
                      "\" (expected fashion-mnist, digits or idx:DIR)");
  }
  return d;
}

}  // namespace nat_cli
