// The latency probe's file, <root>/.logguard-probe, as something with write
// access to the log root may leave it: the probe never writes through what
// was planted there, never waits on it, and keeps measuring.
#include "logguard/node/latency_probe.h"

#include "logguard/storage/posix_file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_util.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;
using testing::QuietLogs;
using testing::TempDir;

const std::string kSecret = "precious, not a probe\n";

class PlantedProbeFile : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_);
    std::ofstream(outside_) << kSecret;
  }

  // Runs the probe (as the node guard makes it) until it measured once;
  // false if it never did within the hang limit.
  bool probe_measures() {
    auto rooted = make_posix_file_system(root_);  // as the node guard gives it
    LatencyProbe probe(probe_path_, testing::real_clock(), *rooted);
    probe.start();
    const bool measured = testing::eventually([&] { return !probe.take().latencies.empty(); });
    if (!measured && fs::is_fifo(probe_path_)) {
      // A probe stuck opening the FIFO for writing: its other end frees it.
      int reader = ::open(probe_path_.c_str(), O_RDONLY | O_NONBLOCK);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::close(reader);
    }
    probe.stop();
    return measured;
  }

  std::string outside_content() {
    std::ifstream in(outside_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  QuietLogs quiet_;
  TempDir dir_;
  const std::string root_ = dir_ / "logs";
  const std::string outside_ = dir_ / "outside";
  const std::string probe_path_ = root_ + "/.logguard-probe";
};

// The issue: after `docker plugin enable` the outside file held the probe's
// bytes instead of its own.
TEST_F(PlantedProbeFile, AHardLinkIsNotWrittenThrough) {
  fs::create_hard_link(outside_, probe_path_);
  EXPECT_TRUE(probe_measures());
  EXPECT_EQ(outside_content(), kSecret);
  EXPECT_EQ(fs::hard_link_count(outside_), 1u);  // the planted name is gone
  EXPECT_FALSE(fs::exists(probe_path_));         // stop() removed the probe's own
}

// The issue: the probe thread blocked opening the FIFO, and `docker plugin
// disable` waited 10 s for it.
TEST_F(PlantedProbeFile, AFifoIsNotWaitedOn) {
  ASSERT_EQ(::mkfifo(probe_path_.c_str(), 0600), 0);
  EXPECT_TRUE(probe_measures());
  EXPECT_FALSE(fs::exists(probe_path_));
}

TEST_F(PlantedProbeFile, ASymbolicLinkIsReplaced) {
  fs::create_symlink(outside_, probe_path_);
  EXPECT_TRUE(probe_measures());
  EXPECT_EQ(outside_content(), kSecret);
  EXPECT_FALSE(fs::exists(probe_path_));
}

}  // namespace
}  // namespace logguard
