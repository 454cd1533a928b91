// The write path's pure per-record code, without I/O or threads: frames of a
// flood of 100-byte lines decoded (FrameDecoder), decided (Limiter) and
// encoded (append_json_record) as StreamPump does, each step alone and all
// together. Record times advance 2371 ns per record, as a flood's do, so
// they have nine-digit fractions and share their whole second.
//
// Every benchmark runs a fixed number of 64 KiB blocks, so that instruction
// counts (repeatable on a busy machine, unlike time) divide into a per-record
// figure:
//   valgrind --tool=callgrind --callgrind-out-file=cg.out build/record_path_bench
//   callgrind_annotate --inclusive=yes cg.out | grep BM_
// then divide each BM_ line by the records printed for it.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "logguard/format/frame.h"
#include "logguard/format/json_record.h"
#include "logguard/ingest/limiter.h"
#include "logguard/ingest/node_gate.h"
#include "logguard/base/time_format.h"

namespace logguard {
namespace {

constexpr int kBlocks = 100;
constexpr int64_t kFirstTime = 1'700'000'000'123'456'789;
constexpr int64_t kStep = 2371;

// 64 KiB of whole frames of 99-byte lines on stdout, times advancing.
struct Input {
  std::string line = std::string(99, 'x');
  std::string block;
  std::vector<LogEntryView> entries;  // the block's frames, pointing into line

  Input() {
    LogEntryView entry;
    entry.source = "stdout";
    entry.line = line;
    std::string frame;
    for (entry.time_nano = kFirstTime;; entry.time_nano += kStep) {
      frame.clear();
      append_frame(frame, entry);
      if (block.size() + frame.size() > 64 * 1024) break;
      block += frame;
      entries.push_back(entry);
    }
  }
};

const Input& input() {
  static const Input in;
  return in;
}

// Production always has a node gate (the node guard); this one admits
// everything, so only the limiter's own work is measured.
class OpenGate : public NodeGate {
 public:
  Verdict admit(int64_t, uint64_t cost) override {
    charged_ += cost;
    return {};
  }
  void charge(int64_t, uint64_t cost) override { charged_ += cost; }
  std::string describe(Limit) const override { return {}; }

 private:
  uint64_t charged_ = 0;
};

LimitOptions rate_limit() {  // a byte bucket that never runs dry here
  LimitOptions options;
  options.bytes_per_sec = 1e12;
  options.burst_bytes = 1e12;
  return options;
}

Chunk chunk_of(const LogEntryView& e, const RecordView& record) {
  Chunk chunk;
  chunk.stream = e.source;
  chunk.record = &record;
  chunk.raw_bytes = e.line.size() + 1;
  return chunk;
}

RecordView record_of(const LogEntryView& e) {
  return RecordView{e.line, e.source, e.time_nano, nullptr, true};
}

void count_records(benchmark::State& state) {
  const auto records = static_cast<int64_t>(state.iterations() * input().entries.size());
  state.SetItemsProcessed(records);
  state.counters["records"] = static_cast<double>(records);
}

void BM_Decode(benchmark::State& state) {
  const Input& in = input();
  FrameDecoder decoder;
  LogEntryView e;
  for (auto _ : state) {
    decoder.feed(in.block.data(), in.block.size());
    while (decoder.next(&e) == FrameDecoder::Status::kFrame) benchmark::DoNotOptimize(e);
  }
  count_records(state);
}

void limit(benchmark::State& state, Limiter& limiter) {
  int64_t now = 1'000'000'000;
  for (auto _ : state) {
    for (const LogEntryView& e : input().entries) {
      const RecordView record = record_of(e);
      now += kStep;
      benchmark::DoNotOptimize(limiter.offer(chunk_of(e, record), now, e.time_nano));
    }
  }
  count_records(state);
}

void BM_LimitOff(benchmark::State& state) {
  Limiter limiter{LimitOptions{}};
  limit(state, limiter);
}

void BM_LimitRateGate(benchmark::State& state) {
  OpenGate gate;
  Limiter limiter(rate_limit(), &gate);
  limit(state, limiter);
}

// A flood far over its limit (rate=1k, burst=1k as write_path_bench's
// Dropped): nearly every line is dropped, so this is the drop path's cost.
void BM_LimitDrop(benchmark::State& state) {
  LimitOptions options;
  options.bytes_per_sec = 1000;
  options.burst_bytes = 1000;
  OpenGate gate;
  Limiter limiter(options, &gate);
  limit(state, limiter);
}

void BM_Time(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const LogEntryView& e : input().entries) append_rfc3339nano(out, e.time_nano);
    benchmark::DoNotOptimize(out.data());
  }
  count_records(state);
}

void BM_Encode(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const LogEntryView& e : input().entries) append_json_record(out, record_of(e));
    benchmark::DoNotOptimize(out.data());
  }
  count_records(state);
}

// What StreamPump does per frame, less its clock reads and bookkeeping.
void BM_Record(benchmark::State& state) {
  const Input& in = input();
  FrameDecoder decoder;
  OpenGate gate;
  Limiter limiter(rate_limit(), &gate);
  std::string out;
  int64_t now = 1'000'000'000;
  LogEntryView e;
  for (auto _ : state) {
    out.clear();
    decoder.feed(in.block.data(), in.block.size());
    while (decoder.next(&e) == FrameDecoder::Status::kFrame) {
      const RecordView record = record_of(e);
      now += kStep;
      if (limiter.offer(chunk_of(e, record), now, e.time_nano).verdict ==
          Limiter::Verdict::kAdmit) {
        append_json_record(out, record);
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  count_records(state);
}

BENCHMARK(BM_Decode)->Iterations(kBlocks);
BENCHMARK(BM_LimitOff)->Iterations(kBlocks);
BENCHMARK(BM_LimitRateGate)->Iterations(kBlocks);
BENCHMARK(BM_LimitDrop)->Iterations(kBlocks);
BENCHMARK(BM_Time)->Iterations(kBlocks);
BENCHMARK(BM_Encode)->Iterations(kBlocks);
BENCHMARK(BM_Record)->Iterations(kBlocks);

}  // namespace
}  // namespace logguard

BENCHMARK_MAIN();
