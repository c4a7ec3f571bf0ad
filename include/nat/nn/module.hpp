#pragma once
/// \file The module/parameter model: a module owns named parameters and buffers and named child
/// modules, so a whole network has PyTorch-style state-dict paths ("blocks.3.conv.point_linear.
/// bn.bn.running_mean", ofa_spec §6) for checkpoints and optimisers, and a train/eval mode.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::nn {

/// Named tensors in registration order (the state-dict layout).
template <class T>
using named_tensor_list = std::vector<std::pair<std::string, tensor<T>>>;

/// Base of every layer and network. Modules register pointers to their own members, so they are
/// neither copyable nor movable (hold them by value in their parent or by unique_ptr).
template <class T>
class basic_module {
 public:
  basic_module() = default;
  basic_module(const basic_module&) = delete;
  basic_module& operator=(const basic_module&) = delete;
  virtual ~basic_module() = default;

  /// Switches this module and its children to training (true) or evaluation (false) mode.
  void train(bool on = true) {
    training_ = on;
    for (auto& c : children_) c.second->train(on);
  }
  /// Evaluation mode (BN uses running statistics).
  void eval() { train(false); }
  /// True in training mode.
  bool is_training() const { return training_; }

  /// Trainable tensors with their dotted paths, depth first in registration order.
  named_tensor_list<T> named_parameters() const {
    named_tensor_list<T> out;
    collect(out, "", true, false);
    return out;
  }
  /// Non-trainable state (BN running statistics).
  named_tensor_list<T> named_buffers() const {
    named_tensor_list<T> out;
    collect(out, "", false, true);
    return out;
  }
  /// Parameters and buffers together, interleaved as registered (what a checkpoint holds).
  named_tensor_list<T> state_dict() const {
    named_tensor_list<T> out;
    collect(out, "", true, true);
    return out;
  }
  /// Number of trainable scalars.
  std::size_t n_parameters() const {
    std::size_t n = 0;
    for (const auto& p : named_parameters()) n += p.second.numel();
    return n;
  }
  /// Forgets every parameter's accumulated gradient.
  void zero_grad() const {
    for (const auto& p : named_parameters()) p.second.zero_grad();
  }

 protected:
  /// Registers member `t` as a trainable parameter called `name` (marks it requires_grad).
  void register_parameter(const std::string& name, tensor<T>& t) {
    t.set_requires_grad(true);
    entries_.push_back({name, &t, true});
  }
  /// Registers member `t` as a buffer (saved, not trained).
  void register_buffer(const std::string& name, tensor<T>& t) {
    entries_.push_back({name, &t, false});
  }
  /// Registers a child module under `name`.
  void register_module(const std::string& name, basic_module& m) {
    children_.emplace_back(name, &m);
  }

 private:
  struct entry {
    std::string name;
    tensor<T>* t;
    bool is_param;
  };
  void collect(named_tensor_list<T>& out, const std::string& prefix, bool params,
               bool buffers) const {
    for (const auto& e : entries_)
      if ((e.is_param && params) || (!e.is_param && buffers))
        out.emplace_back(prefix + e.name, *e.t);
    for (const auto& c : children_) c.second->collect(out, prefix + c.first + ".", params, buffers);
  }

  bool training_ = true;
  std::vector<entry> entries_;
  std::vector<std::pair<std::string, basic_module*>> children_;
};

}  // namespace nat::nn
