// The `nat` program run as a user runs it: `nat train` on a crafted IDX dataset (checks the JSON
// summary, that `nat evaluate` on the exported directory reproduces its test accuracy, and that a
// run killed after an epoch and resumed ends exactly like an uninterrupted one), and one-line
// errors with exit code 2 for bad input.
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <nat/core/file.hpp>
#include <nat/core/json.hpp>
#include <nat/core/rng.hpp>
#include <nat/io/safetensors.hpp>
#include <nat/transfer/archive.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef NAT_PROGRAM
#define NAT_PROGRAM ""
#endif

namespace {

struct result {
  int rc = -1;
  std::string out, err;
};

// A fresh directory under /tmp, removed with everything in it when the object dies.
struct scratch_dir {
  std::string path;
  scratch_dir() {
    char tmpl[] = "/tmp/nat_program_test_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path = p ? p : "";
  }
  ~scratch_dir() {
    if (!path.empty()) std::system(("rm -rf '" + path + "'").c_str());
  }
};

// Runs `nat ARGS` through the shell, capturing stdout and stderr.
result run_nat(const std::string& args, const scratch_dir& tmp) {
  const std::string o = tmp.path + "/stdout.txt", e = tmp.path + "/stderr.txt";
  const int status =
      std::system((std::string(NAT_PROGRAM) + " " + args + " >" + o + " 2>" + e).c_str());
  result r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = nat::read_file(o);
  r.err = nat::read_file(e);
  return r;
}

// Largest |a - b| over the elements of tensor `name` in two safetensors files (a supernet, or a
// train.ckpt that also holds optimiser state).
double max_abs_diff(const std::string& file_a, const std::string& file_b, const std::string& name) {
  const auto a = nat::io::load_safetensors<float>(file_a).at(name).contiguous();
  const auto b = nat::io::load_safetensors<float>(file_b).at(name).contiguous();
  REQUIRE(a.numel() == b.numel());
  double d = 0;
  for (std::size_t i = 0; i < a.numel(); ++i)
    d = std::max(d, double(std::abs(a.data()[i] - b.data()[i])));
  return d;
}

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

void put_be32(std::string& s, std::uint32_t v) {
  for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>((v >> sh) & 0xff);
}

// An IDX dataset in MNIST's layout under `dir`: 12x12 grey images of three classes told apart by
// where a bright square is (left, centre, right), `n_train` and `n_test` of them.
void write_idx_dataset(const std::string& dir, std::size_t n_train, std::size_t n_test) {
  nat::rng g(5);
  for (const auto& [prefix, n] : {std::make_pair(std::string("train"), n_train),
                                  std::make_pair(std::string("t10k"), n_test)}) {
    std::string images, labels;
    for (int b : {0, 0, 8, 3}) images += static_cast<char>(b);
    for (auto d : {std::uint32_t(n), 12u, 12u}) put_be32(images, d);
    for (int b : {0, 0, 8, 1}) labels += static_cast<char>(b);
    put_be32(labels, std::uint32_t(n));
    for (std::size_t i = 0; i < n; ++i) {
      const int c = static_cast<int>(g.index(3));
      labels += static_cast<char>(c);
      std::string px(144, '\0');
      for (auto& p : px) p = static_cast<char>(g.index(60));
      for (int y = 4; y < 8; ++y)
        for (int x = 0; x < 4; ++x) px[y * 12 + c * 4 + x] = static_cast<char>(230);
      images += px;
    }
    nat::write_file_atomic(dir + "/" + prefix + "-images-idx3-ubyte", images);
    nat::write_file_atomic(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
  }
}

/// A `nat search --config` file small enough for a test: 6 initial subnets, one iteration of 2.
void write_tiny_search_config(const std::string& path) {
  nat::write_file_atomic(path,
                         R"({"n_doe": 6, "n_iterations": 1, "n_candidates": 2, "surrogate": "cart",
          "search": {"pop_size": 10, "n_gen": 2, "subset_pop_size": 10, "subset_n_gen": 3},
          "adaptation": {"top_n": 4, "max_steps_per_epoch": 1, "batch_size": 16},
          "evaluation": {"validation_images": 16, "bn_calibration_images": 16,
                         "bn_calibration_batch": 16, "eval_batch": 40}})");
}

bool program_built() {
  if (std::string(NAT_PROGRAM).empty()) {
    MESSAGE("the nat program is not built (NAT_BUILD_EXAMPLES=OFF); skipped");
    return false;
  }
  return true;
}

/// A "pre-trained" source supernet for --transfer-from (one step per phase exercises the path).
void write_source_supernet(const std::string& data, const std::string& src,
                           const scratch_dir& tmp) {
  const auto pre = run_nat("train-supernet --dataset idx:" + data + " --out " + src +
                               " --epochs-largest 1 --epochs-supernet 1 --max-steps 1 --batch 16 "
                               "--holdout 0 --resolutions 28 --threads 2 --quiet",
                           tmp);
  REQUIRE_MESSAGE(pre.rc == 0, pre.err);
}

/// Starts `cmd`, SIGKILLs it as soon as `checkpoint` exists (or it has run 300 s), and waits.
void kill_once_checkpointed(const std::string& cmd, const std::string& checkpoint) {
  std::fflush(stdout);  // the child must not repeat the parent's buffered output
  std::fflush(stderr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto start = std::chrono::steady_clock::now();
  while (!nat::file_exists(checkpoint) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(300))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  MESSAGE(
      std::string(WIFSIGNALED(status) ? "killed after a checkpoint" : "finished before the kill"));
}

const char* const tiny_run =
    " --subnet smallest --epochs 2 --max-steps 2 --batch 16 --val-images 16 --seed 1 --threads 2 "
    "--quiet";

}  // namespace

TEST_CASE("nat train: trains, reports, exports what nat evaluate reproduces, and resumes") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", a = tmp.path + "/a", b = tmp.path + "/b";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const std::string common = std::string(tiny_run) + " --dataset idx:" + data;

  const auto straight = run_nat("train" + common + " --out " + a + " --json", tmp);
  REQUIRE_MESSAGE(straight.rc == 0, straight.err);
  const auto j = nat::json::parse(straight.out);
  for (const char* k :
       {"val_top1", "test_top1", "epochs", "wall_s", "images_per_s", "macs", "params"})
    REQUIRE_MESSAGE(j.contains(k), k);
  CHECK(j.at("epochs").as_int() == 2);
  for (const char* k : {"val_top1", "test_top1"}) {
    CHECK(j.at(k).as_number() >= 0.0);
    CHECK(j.at(k).as_number() <= 100.0);
  }
  CHECK(j.at("wall_s").as_number() > 0.0);
  CHECK(j.at("images_per_s").as_number() > 0.0);
  CHECK(j.at("macs").as_number() > 0.0);
  CHECK(j.at("params").as_number() > 0.0);
  for (const char* f : {"weights.safetensors", "subnet.json", "net.config", "info.json",
                        "train.json", "train.ckpt", "epochs.json", "result.json"})
    CHECK_MESSAGE(nat::file_exists(a + "/" + f), f);
  // Every epoch's validation top-1; after the last one it is the network the report evaluates.
  const auto epochs = nat::json::parse(nat::read_file(a + "/epochs.json"));
  REQUIRE(epochs.as_array().size() == 2);
  for (const auto& e : epochs.as_array()) {
    REQUIRE(e.contains("val_top1"));
    CHECK(e.at("val_top1").as_number() >= 0.0);
    CHECK(e.at("val_top1").as_number() <= 100.0);
  }
  CHECK(epochs.as_array().back().at("val_top1").as_number() == j.at("val_top1").as_number());

  // The exported directory is an ordinary subnet: nat evaluate gives the same test top-1.
  const auto ev =
      run_nat("evaluate --subnet " + a + " --dataset idx:" + data + " --split test --json", tmp);
  REQUIRE_MESSAGE(ev.rc == 0, ev.err);
  CHECK(nat::json::parse(ev.out).at("top1").as_number() ==
        doctest::Approx(j.at("test_top1").as_number()).epsilon(1e-12));

  // The same run, killed (SIGKILL) once its first epoch's checkpoint exists, then resumed with
  // only --out: the same weights and accuracies as the straight run. A run that already finished
  // when the kill comes is resumed from its last checkpoint, which must give the same too.
  kill_once_checkpointed(std::string(NAT_PROGRAM) + " train" + common + " --out " + b,
                         b + "/train.ckpt");
  const auto resumed = run_nat("train --resume --out " + b + " --threads 2 --quiet --json", tmp);
  REQUIRE_MESSAGE(resumed.rc == 0, resumed.err);
  const auto jr = nat::json::parse(resumed.out);
  CHECK(jr.at("val_top1").as_number() == j.at("val_top1").as_number());
  CHECK(jr.at("test_top1").as_number() == j.at("test_top1").as_number());
  CHECK(nat::read_file(b + "/weights.safetensors") == nat::read_file(a + "/weights.safetensors"));

  // Again with a checkpoint after every step (--checkpoint-every): the kill most likely lands
  // within an epoch, whose resumed statistics must also be the straight run's.
  const std::string c = tmp.path + "/c";
  kill_once_checkpointed(
      std::string(NAT_PROGRAM) + " train" + common + " --checkpoint-every 0.000001 --out " + c,
      c + "/train.ckpt");
  const auto resumed_c = run_nat("train --resume --out " + c + " --threads 2 --quiet --json", tmp);
  REQUIRE_MESSAGE(resumed_c.rc == 0, resumed_c.err);
  CHECK(nat::read_file(c + "/weights.safetensors") == nat::read_file(a + "/weights.safetensors"));
  const auto epochs_c = nat::json::parse(nat::read_file(c + "/epochs.json"));
  REQUIRE(epochs_c.as_array().size() == 2);
  for (std::size_t i = 0; i < 2; ++i)
    for (const char* k : {"loss", "train_top1", "val_top1"})
      CHECK(epochs_c.as_array()[i].at(k).as_number() == epochs.as_array()[i].at(k).as_number());

  // A resumed run keeps its settings: a different one is refused in one line.
  const auto clash = run_nat("train --resume --out " + b + " --epochs 3 --quiet", tmp);
  CHECK(clash.rc == 2);
  CHECK(lines(clash.err) == 1);
  CHECK(clash.err.find("epochs") != std::string::npos);
}

TEST_CASE("nat train: bad input is one line on stderr and exit code 2") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  for (const std::string args :
       {"train --subnet bogus", "train --subnet 0101", "train --subnet 01011203200562076009771999",
        "train --dataset fashion-mnist", "train --subnet largest --epochs 0",
        "train --subnet largest --resolution 30", "train --resume --subnet largest",
        "train --subnet largest --nope", "train --subnet largest --cutmix 2",
        "train --subnet largest --erasing -0.1", "train --subnet largest --weight-decay -1",
        "train --subnet largest --checkpoint-every -5"}) {
    CAPTURE(args);
    const auto r = run_nat(args + " --out " + tmp.path + "/never", tmp);
    CHECK(r.rc == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.rfind("nat train: ", 0) == 0);
    CHECK(r.out.empty());
    CHECK(!nat::file_exists(tmp.path + "/never"));
  }
  const auto help = run_nat("train --help", tmp);
  CHECK(help.rc == 0);
  CHECK(help.out.rfind("usage: nat train", 0) == 0);
  CHECK(help.out.find("--subnet") != std::string::npos);
}

TEST_CASE("nat search --supernet: a missing file is one line, not a warm-up into it") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", nope = tmp.path + "/nope.safetensors",
                    run = tmp.path + "/run";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const auto e = run_nat(
      "search --dataset idx:" + data + " --supernet " + nope + " --run-dir " + run + " --quiet",
      tmp);
  CHECK(e.rc == 2);
  CHECK(lines(e.err) == 1);
  CHECK(e.err.find("--supernet") != std::string::npos);
  CHECK(e.err.find(nope) != std::string::npos);
  CHECK(!nat::file_exists(nope));
  CHECK(!nat::file_exists(run));
}

TEST_CASE("nat train: the digits dataset trains and evaluates") {
  if (!program_built()) return;
  if (!nat::file_exists("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz")) {
    MESSAGE("scikit-learn's digits.csv.gz is not installed; skipped");
    return;
  }
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const auto r = run_nat(
      "train --dataset digits --subnet smallest --epochs 1 --max-steps 1 --batch 16 "
      "--threads 2 --quiet --json --out " +
          tmp.path + "/d",
      tmp);
  REQUIRE_MESSAGE(r.rc == 0, r.err);
  const auto j = nat::json::parse(r.out);
  CHECK(j.at("val_top1").is_number());
  CHECK(j.at("test_top1").is_number());
  const auto sub = nat::json::parse(nat::read_file(tmp.path + "/d/subnet.json"));
  CHECK(sub.at("n_classes").as_int() == 10);
}

TEST_CASE("nat info/export/evaluate: --encoding and --config share one parser") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const auto enc =
      run_nat("info --preset mbv3_small --encoding 01011203200562076009771 --json", tmp);
  REQUIRE_MESSAGE(enc.rc == 0, enc.err);
  const auto cfg = nat::json::parse(enc.out).at("config");
  const auto js = run_nat("info --preset mbv3_small --config '" + cfg.dump() + "' --json", tmp);
  REQUIRE_MESSAGE(js.rc == 0, js.err);
  CHECK(nat::json::parse(js.out).at("macs").as_number() ==
        nat::json::parse(enc.out).at("macs").as_number());
  for (const std::string args :
       {"info --preset mbv3_small --encoding 0101 --json",
        "info --encoding 01011203200562076009771 --config x.json", "info --config '{\"r\": 28}'",
        "export --supernet x --preset mbv3_small --out d"}) {
    CAPTURE(args);
    const auto r = run_nat(args, tmp);
    CHECK(r.rc == 2);
    CHECK(lines(r.err) == 1);
  }
}

TEST_CASE(
    "nat search: --transfer-from warms a source supernet up; cpu_latency gets a measured table") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", src = tmp.path + "/src.safetensors",
                    run = tmp.path + "/run", cfg = tmp.path + "/tiny.json";
  nat::make_dirs(data);
  write_idx_dataset(data, 200, 40);  // the search's warm-up trains in batches of 128
  write_source_supernet(data, src, tmp);
  write_tiny_search_config(cfg);
  const std::string common = "search --dataset idx:" + data + " --config " + cfg +
                             " --warmup-max-steps 1 --threads 2 --transfer-from " + src;
  const auto both = run_nat(common + " --supernet " + src + " --run-dir " + run + "x", tmp);
  CHECK(both.rc == 2);
  CHECK(lines(both.err) == 1);
  const auto r = run_nat(common + " --objectives err,macs,cpu_latency --run-dir " + run, tmp);
  REQUIRE_MESSAGE(r.rc == 0, r.err);
  CHECK(r.err.find("transferring") != std::string::npos);
  CHECK(nat::file_exists(run + "/latency_table.json"));
  const std::string csv = nat::read_file(run + "/front.csv");
  CHECK(csv.rfind("id,encoding,macs,cpu_latency", 0) == 0);
  // The table is part of the run: resuming scores latency from the same file.
  const std::string table = nat::read_file(run + "/latency_table.json");
  const auto again = run_nat("search --resume " + run + " --threads 2 --quiet", tmp);
  REQUIRE_MESSAGE(again.rc == 0, again.err);
  CHECK(nat::read_file(run + "/latency_table.json") == table);

  // Every exported front subnet is usable as it is: `nat evaluate` on its directory reproduces
  // the test_acc of front.csv. The BN statistics are shared by all subnets of the supernet, so an
  // export must carry the ones recalibrated for its own subnet, not the last-evaluated one's.
  std::istringstream rows(nat::read_file(run + "/front.csv"));
  std::string line;
  std::getline(rows, line);
  std::vector<std::string> header;
  for (std::istringstream h(line); std::getline(h, line, ',');) header.push_back(line);
  const auto col = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  REQUIRE(col("test_acc") < header.size());
  std::size_t checked = 0;
  while (std::getline(rows, line)) {
    std::vector<std::string> cells;
    for (std::istringstream c(line); std::getline(c, line, ',');) cells.push_back(line);
    const std::string dir = run + "/subnets/" + cells.at(col("id"));
    CAPTURE(dir);
    const auto e = run_nat("evaluate --subnet " + dir + " --dataset idx:" + data + " --json", tmp);
    REQUIRE_MESSAGE(e.rc == 0, e.err);
    const auto exported = nat::json::parse(e.out);
    CHECK(exported.at("top1").as_number() ==
          doctest::Approx(std::stod(cells.at(col("test_acc")))).epsilon(1e-6));
    // The loss tells BN statistics apart where 40 test images leave top-1 unmoved: the export
    // must score as the run's supernet does after recalibrating for this subnet.
    const auto recalibrated =
        run_nat("evaluate --supernet " + run +
                    "/supernet/supernet.safetensors --preset mbv3_small "
                    "--encoding " +
                    cells.at(col("encoding")) + " --dataset idx:" + data + " --json",
                tmp);
    REQUIRE_MESSAGE(recalibrated.rc == 0, recalibrated.err);
    const double loss = nat::json::parse(recalibrated.out).at("loss").as_number();
    CHECK(exported.at("loss").as_number() == doctest::Approx(loss).epsilon(1e-4));
    // `nat export --dataset` recalibrates the same way, so its export scores the same.
    const std::string again_dir = tmp.path + "/export-" + cells.at(col("id"));
    const auto x =
        run_nat("export --supernet " + run +
                    "/supernet/supernet.safetensors --preset mbv3_small --encoding " +
                    cells.at(col("encoding")) + " --dataset idx:" + data + " --out " + again_dir,
                tmp);
    REQUIRE_MESSAGE(x.rc == 0, x.err);
    const auto e2 =
        run_nat("evaluate --subnet " + again_dir + " --dataset idx:" + data + " --json", tmp);
    REQUIRE_MESSAGE(e2.rc == 0, e2.err);
    CHECK(nat::json::parse(e2.out).at("loss").as_number() == doctest::Approx(loss).epsilon(1e-4));
    ++checked;
  }
  MESSAGE(std::string(std::to_string(checked) + " exported front subnets evaluated"));
  CHECK(checked >= 1);
}

TEST_CASE("nat search --resume: a run killed during its warm-up continues it as it started") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", src = tmp.path + "/src.safetensors",
                    a = tmp.path + "/a", b = tmp.path + "/b", cfg = tmp.path + "/tiny.json";
  nat::make_dirs(data);
  write_idx_dataset(data, 200, 40);
  write_source_supernet(data, src, tmp);
  write_tiny_search_config(cfg);
  // Warm-up settings that differ from the defaults (1,1 epochs, 60 steps), and a transfer: a
  // resume that fell back to the flags' defaults, or skipped the transfer, ends elsewhere.
  const std::string common = "search --dataset idx:" + data + " --config " + cfg +
                             " --warmup-epochs 2,2 --warmup-max-steps 1 --threads 2 --quiet" +
                             " --transfer-from " + src;
  const auto straight = run_nat(common + " --run-dir " + a, tmp);
  REQUIRE_MESSAGE(straight.rc == 0, straight.err);
  kill_once_checkpointed(std::string(NAT_PROGRAM) + " " + common + " --run-dir " + b,
                         b + "/warmup/supernet.safetensors.phase1.ckpt");
  CHECK(nat::file_exists(b + "/launch.json"));
  const auto resumed = run_nat("search --resume " + b + " --threads 2 --quiet", tmp);
  REQUIRE_MESSAGE(resumed.rc == 0, resumed.err);
  CHECK(nat::read_file(b + "/warmup/supernet.safetensors") ==
        nat::read_file(a + "/warmup/supernet.safetensors"));
  CHECK(nat::read_file(b + "/front.csv") == nat::read_file(a + "/front.csv"));

  // A damaged record is named; a directory that is no run says so.
  nat::write_file_atomic(b + "/launch.json", "{\"config\": ");
  std::remove((b + "/config.json").c_str());
  const auto damaged = run_nat("search --resume " + b + " --threads 2 --quiet", tmp);
  CHECK(damaged.rc != 0);
  CHECK(lines(damaged.err) == 1);
  CHECK(damaged.err.find("launch.json") != std::string::npos);
  const auto none = run_nat("search --resume " + data + " --threads 2 --quiet", tmp);
  CHECK(none.rc != 0);
  CHECK(none.err.find("not a run directory") != std::string::npos);
  const auto missing = run_nat(common + "x --run-dir " + tmp.path + "/never", tmp);
  CHECK(missing.rc == 2);
  CHECK(lines(missing.err) == 1);
  CHECK(!nat::file_exists(tmp.path + "/never"));
}

TEST_CASE("nat search: a supernet warmed up on fewer sizes than the space is adapted only there") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", src = tmp.path + "/src.safetensors",
                    off = tmp.path + "/off.safetensors", run = tmp.path + "/run",
                    cfg = tmp.path + "/tiny.json";
  nat::make_dirs(data);
  write_idx_dataset(data, 200, 40);
  const std::string warm = "train-supernet --dataset idx:" + data +
                           " --epochs-largest 1 --epochs-supernet 1 --max-steps 1 --batch 16 "
                           "--holdout 0 --threads 2 --quiet";
  const auto pre = run_nat(warm + " --resolutions 28,32 --out " + src, tmp);
  REQUIRE_MESSAGE(pre.rc == 0, pre.err);
  std::map<std::string, std::string> meta;
  nat::io::load_safetensors<float>(src, &meta);
  CHECK(meta["resolutions"] == "28,32");
  write_tiny_search_config(cfg);
  const std::string common =
      "search --dataset idx:" + data + " --config " + cfg + " --threads 2 --supernet ";
  const auto r = run_nat(common + src + " --run-dir " + run, tmp);
  REQUIRE_MESSAGE(r.rc == 0, r.err);
  CHECK(r.err.find("warmed up at 28,32 px") != std::string::npos);
  const auto written = nat::json::parse(nat::read_file(run + "/config.json"));
  CHECK(written.at("adaptation").at("resolutions").dump() == "[28,32]");
  // Nor are subnets searched above 32 px, where it has no trained weights: the space the run
  // stores, and every subnet it evaluated (the largest of the initial archive included).
  CHECK(r.err.find("searching resolutions up to 32 px") != std::string::npos);
  CHECK(written.at("max_resolution").dump() == "32");
  CHECK(nat::json::parse(nat::read_file(run + "/space.json")).at("resolutions").dump() ==
        "[28,32]");
  const nat::transfer::archive evaluated(run + "/archive.jsonl");
  CHECK(evaluated.size() >= 8);
  std::size_t at_32 = 0;
  for (const auto& e : evaluated.entries()) {
    CHECK((e.config.r == 28 || e.config.r == 32));
    at_32 += e.config.r == 32;
  }
  CHECK(at_32 >= 1);
  // Trained at sizes the space does not hold: refused in one line, before any evaluation.
  const auto pre_off = run_nat(warm + " --resolutions 64 --out " + off, tmp);
  REQUIRE_MESSAGE(pre_off.rc == 0, pre_off.err);
  const auto bad = run_nat(common + off + " --run-dir " + run + "x --quiet", tmp);
  CHECK(bad.rc == 2);
  CHECK(lines(bad.err) == 1);
  CHECK(bad.err.find("none of the search space's resolutions") != std::string::npos);
}

TEST_CASE("nat train-supernet --largest-from: a finished `nat train --subnet largest` is phase 1") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", big = tmp.path + "/largest",
                    out = tmp.path + "/super.safetensors";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const auto tr = run_nat(
      "train --subnet largest --epochs 1 --max-steps 2 --batch 16 "
      "--val-images 16 --seed 1 --threads 2 --quiet --dataset idx:" +
          data + " --out " + big,
      tmp);
  REQUIRE_MESSAGE(tr.rc == 0, tr.err);
  const std::string common = "train-supernet --dataset idx:" + data + " --largest-from " + big +
                             " --seed 1 --epochs-supernet 1 --max-steps 1 --batch 16 "
                             "--resolutions 28 --threads 2 --quiet --out " +
                             out;
  // A run that held out other images (or trained another subnet) would leak the search's
  // validation images into the supernet: refused, naming the setting.
  for (const std::string bad : {" --holdout 8", " --holdout 16 --epochs-largest 3"}) {
    const auto r = run_nat(common + bad, tmp);
    CHECK(r.rc == 2);
    CHECK(lines(r.err) == 1);
    CHECK(!nat::file_exists(out));
    if (bad == " --holdout 8") CHECK(r.err.find("val_images") != std::string::npos);
  }
  // A negligible phase-3 learning rate leaves the stem (never permuted by channel sorting) as
  // phase 1 left it: the weights came from the run, not from a fresh initialisation.
  const auto r = run_nat(common + " --holdout 16 --lr-supernet 1e-12 --json", tmp);
  REQUIRE_MESSAGE(r.rc == 0, r.err);
  // Phase 3's teacher is fed at the one resolution that run trained at.
  const auto report = nat::json::parse(r.out);
  const auto settings = nat::json::parse(nat::read_file(big + "/train.json"));
  CHECK(report.at("teacher_resolution").dump() == settings.at("subnet").at("r").dump());
  // Both extremes are reported at every training resolution; the first keeps the old keys.
  const auto& by_r = report.at("test_top1_by_resolution");
  CHECK(by_r.at("largest").at("28").dump() == report.at("largest_test_top1").dump());
  CHECK(by_r.at("smallest").at("28").dump() == report.at("smallest_test_top1").dump());
  CHECK(max_abs_diff(big + "/train.ckpt", out, "first_conv.conv.weight") < 1e-6);
}

TEST_CASE("nat train --init: the training starts from a supernet's weights") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", a = tmp.path + "/a", b = tmp.path + "/b",
                    c = tmp.path + "/c";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const std::string common = std::string(tiny_run) + " --dataset idx:" + data;
  const auto first = run_nat("train" + common + " --out " + a, tmp);
  REQUIRE_MESSAGE(first.rc == 0, first.err);

  // A negligible learning rate keeps the stem as --init gave it, not as the seed would draw it:
  // the trained run's weights, which differ from a fresh initialisation (the second seed's).
  const std::string tuned = common + " --seed 2 --lr 1e-12";
  const auto r = run_nat("train" + tuned + " --init " + a + "/train.ckpt --out " + b, tmp);
  REQUIRE_MESSAGE(r.rc == 0, r.err);
  const auto fresh = run_nat("train" + tuned + " --out " + c, tmp);
  REQUIRE_MESSAGE(fresh.rc == 0, fresh.err);
  const std::string stem = "first_conv.conv.weight";
  CHECK(max_abs_diff(b + "/train.ckpt", a + "/train.ckpt", stem) < 1e-6);
  CHECK(max_abs_diff(c + "/train.ckpt", a + "/train.ckpt", stem) > 1e-3);
  CHECK(nat::json::parse(nat::read_file(b + "/train.json")).at("init").as_string() ==
        a + "/train.ckpt");

  // --resume takes the same file spelled another way as the same setting; another file is not.
  const auto respelled = run_nat(
      "train --resume --out " + b + " --init " + a + "/../a/train.ckpt --quiet --threads 2", tmp);
  CHECK_MESSAGE(respelled.rc == 0, respelled.err);
  CHECK(nat::json::parse(nat::read_file(b + "/train.json")).at("init").as_string() ==
        a + "/train.ckpt");
  const auto other =
      run_nat("train --resume --out " + b + " --init " + a + "/weights.safetensors --quiet", tmp);
  CHECK(other.rc == 2);
  CHECK(lines(other.err) == 1);
  CHECK(other.err.find("init") != std::string::npos);

  // Weights of another layout, or no file at all: one line naming --init, nothing written.
  for (const auto& bad : {" --init " + a + "/weights.safetensors", " --init " + a + "/nope"}) {
    CAPTURE(bad);
    const auto e = run_nat("train" + common + bad + " --out " + tmp.path + "/never", tmp);
    CHECK(e.rc == 2);
    CHECK(lines(e.err) == 1);
    CHECK(e.err.find("--init") != std::string::npos);
  }
  CHECK(!nat::file_exists(tmp.path + "/never"));
}

TEST_CASE("nat train --erasing / --weight-decay: stored, change the training, kept on resume") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", a = tmp.path + "/a", b = tmp.path + "/b",
                    c = tmp.path + "/c";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const std::string common = std::string(tiny_run) + " --dataset idx:" + data;
  const auto plain = run_nat("train" + common + " --out " + a, tmp);
  REQUIRE_MESSAGE(plain.rc == 0, plain.err);
  const auto decayed = run_nat("train" + common + " --weight-decay 0.05 --out " + b, tmp);
  REQUIRE_MESSAGE(decayed.rc == 0, decayed.err);
  const auto erased = run_nat("train" + common + " --erasing 1 --out " + c, tmp);
  REQUIRE_MESSAGE(erased.rc == 0, erased.err);

  const auto settings = [](const std::string& dir) {
    return nat::json::parse(nat::read_file(dir + "/train.json"));
  };
  CHECK(settings(a).at("weight_decay").as_number() == doctest::Approx(4e-5));
  CHECK(settings(a).at("erasing").as_number() == 0.0);
  CHECK(settings(b).at("weight_decay").as_number() == doctest::Approx(0.05));
  CHECK(settings(c).at("erasing").as_number() == 1.0);
  // Same seed, batches and crops: only the decay, or only the erased boxes, make the difference.
  const std::string stem = "first_conv.conv.weight";
  CHECK(max_abs_diff(b + "/train.ckpt", a + "/train.ckpt", stem) > 1e-6);
  CHECK(max_abs_diff(c + "/train.ckpt", a + "/train.ckpt", stem) > 1e-6);

  const auto clash = run_nat("train --resume --out " + c + " --erasing 0.5 --quiet", tmp);
  CHECK(clash.rc == 2);
  CHECK(lines(clash.err) == 1);
  CHECK(clash.err.find("erasing") != std::string::npos);
}

TEST_CASE("nat train --kd-from: distils from a supernet's largest subnet, kept on resume") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", teacher = tmp.path + "/teacher", a = tmp.path + "/a",
                    b = tmp.path + "/b", c = tmp.path + "/c";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const std::string common = std::string(tiny_run) + " --dataset idx:" + data;
  const auto t = run_nat("train" + common + " --subnet largest --out " + teacher, tmp);
  REQUIRE_MESSAGE(t.rc == 0, t.err);
  const auto plain = run_nat("train" + common + " --out " + a, tmp);
  REQUIRE_MESSAGE(plain.rc == 0, plain.err);
  const std::string kd = " --kd-from " + teacher + "/train.ckpt";
  const auto distilled = run_nat("train" + common + kd + " --out " + b, tmp);
  REQUIRE_MESSAGE(distilled.rc == 0, distilled.err);
  const auto heavier = run_nat("train" + common + kd + " --kd-ratio 4 --out " + c, tmp);
  REQUIRE_MESSAGE(heavier.rc == 0, heavier.err);

  const auto settings = [](const std::string& dir) {
    return nat::json::parse(nat::read_file(dir + "/train.json"));
  };
  CHECK(settings(a).at("kd_from").as_string().empty());
  CHECK(settings(a).at("kd_ratio").as_number() == 0.0);
  CHECK(settings(b).at("kd_from").as_string() == teacher + "/train.ckpt");
  CHECK(settings(b).at("kd_ratio").as_number() == 1.0);
  CHECK(settings(c).at("kd_ratio").as_number() == 4.0);
  // Same seed, batches and crops: only the teacher's soft labels, and their weight, differ.
  const std::string stem = "first_conv.conv.weight";
  CHECK(max_abs_diff(b + "/train.ckpt", a + "/train.ckpt", stem) > 1e-6);
  CHECK(max_abs_diff(c + "/train.ckpt", b + "/train.ckpt", stem) > 1e-6);

  // A resumed run keeps its teacher and ratio; another ratio is a clash, not a silent change.
  const auto resumed = run_nat("train --resume --out " + b + " --quiet", tmp);
  CHECK_MESSAGE(resumed.rc == 0, resumed.err);
  CHECK(settings(b).at("kd_ratio").as_number() == 1.0);
  const auto clash = run_nat("train --resume --out " + b + " --kd-ratio 2 --quiet", tmp);
  CHECK(clash.rc == 2);
  CHECK(lines(clash.err) == 1);
  CHECK(clash.err.find("kd_ratio") != std::string::npos);

  // A ratio without a teacher, a missing or foreign teacher file: one line, nothing written.
  for (const auto& bad :
       {std::string(" --kd-ratio 2"), " --kd-from " + tmp.path + "/nope",
        " --kd-from " + data + "/train-labels-idx1-ubyte", kd + " --kd-ratio 0"}) {
    CAPTURE(bad);
    const auto e = run_nat("train" + common + bad + " --out " + tmp.path + "/never", tmp);
    CHECK(e.rc == 2);
    CHECK(lines(e.err) == 1);
    CHECK(e.err.find("--kd-") != std::string::npos);
  }
  CHECK(!nat::file_exists(tmp.path + "/never"));
}

TEST_CASE("nat train-supernet --init: phase 3 continues a finished warm-up's supernet") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data", first = tmp.path + "/first.safetensors",
                    out = tmp.path + "/continued.safetensors";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const std::string common = "train-supernet --dataset idx:" + data +
                             " --epochs-largest 1 --epochs-supernet 1 --max-steps 1 --batch 16 "
                             "--holdout 16 --resolutions 28 --threads 2 --quiet";
  const auto pre = run_nat(common + " --seed 1 --lr-supernet 0.5 --out " + first, tmp);
  REQUIRE_MESSAGE(pre.rc == 0, pre.err);
  // The first warm-up's phase 3 took one large step (learning rate 0.5). A negligible phase-3
  // learning rate then leaves a block's weights as the --init file holds them, step included;
  // without --init the same seed rebuilds the first run's phase 1, without that step.
  const std::string w = "blocks.3.conv.inverted_bottleneck.conv.conv.weight";
  const auto r = run_nat(
      common + " --seed 1 --lr-supernet 1e-12 --json --init " + first + " --out " + out, tmp);
  REQUIRE_MESSAGE(r.rc == 0, r.err);
  CHECK(nat::json::parse(r.out).at("init").as_string() == first);
  CHECK(max_abs_diff(first, out, w) < 1e-6);
  // Without --init the run ends elsewhere, so the check above can tell the two apart.
  const auto plain = run_nat(common + " --seed 1 --lr-supernet 1e-12 --out " + out, tmp);
  REQUIRE_MESSAGE(plain.rc == 0, plain.err);
  CHECK(max_abs_diff(first, out, w) > 1e-3);

  // Refused in one line before any training: no file, not a supernet of this layout, and one
  // warmed up on this dataset with another seed (it trained on this seed's validation images).
  nat::write_file_atomic(tmp.path + "/junk.safetensors", "not a safetensors file");
  for (const std::string& bad :
       {" --seed 1 --init " + tmp.path + "/nope",
        " --seed 1 --init " + tmp.path + "/junk.safetensors", " --seed 2 --init " + first}) {
    CAPTURE(bad);
    const auto e = run_nat(common + bad + " --out " + tmp.path + "/never.safetensors", tmp);
    CHECK(e.rc == 2);
    CHECK(lines(e.err) == 1);
    CHECK(e.err.find("--init") != std::string::npos);
    CHECK(!nat::file_exists(tmp.path + "/never.safetensors"));
  }
}

TEST_CASE("nat train-supernet --erasing / --weight-decay reach both phases' training") {
  if (!program_built()) return;
  scratch_dir tmp;
  REQUIRE(!tmp.path.empty());
  const std::string data = tmp.path + "/data";
  nat::make_dirs(data);
  write_idx_dataset(data, 96, 40);
  const std::string common = "train-supernet --dataset idx:" + data +
                             " --epochs-largest 1 --epochs-supernet 1 --max-steps 2 --batch 16 "
                             "--holdout 16 --resolutions 28 --seed 1 --threads 2 --quiet";
  const std::string plain = tmp.path + "/plain.safetensors",
                    decayed = tmp.path + "/decayed.safetensors",
                    erased = tmp.path + "/erased.safetensors";
  for (const auto& [flags, out] : {std::pair<std::string, std::string>{"", plain},
                                   {" --weight-decay 0.05", decayed},
                                   {" --erasing 1", erased}}) {
    const auto r = run_nat(common + flags + " --out " + out, tmp);
    REQUIRE_MESSAGE(r.rc == 0, r.err);
  }
  // Same seed, batches and crops: the decay alone, or the erased boxes alone, move the weights.
  const std::string w = "first_conv.conv.weight";
  CHECK(max_abs_diff(decayed, plain, w) > 1e-6);
  CHECK(max_abs_diff(erased, plain, w) > 1e-6);
  for (const std::string bad : {" --erasing 2", " --weight-decay -0.1"}) {
    CAPTURE(bad);
    const auto e = run_nat(common + bad + " --out " + tmp.path + "/never.safetensors", tmp);
    CHECK(e.rc == 2);
    CHECK(lines(e.err) == 1);
    CHECK(!nat::file_exists(tmp.path + "/never.safetensors"));
  }
}
