// What a restarted plugin reads back: records written crash-safely, and
// progress slots of which a torn one is never taken for valid.
#include "logguard/session_store.h"

#include <gtest/gtest.h>

#include "fake_file_system.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;

const std::string kDir = "/state/sessions";
const std::string kFifo = "/run/docker/logging/" + std::string(64, 'e');

SessionRecord record() {
  return {kFifo, std::string(64, 'a'), "/web", {{"rate", "1m"}, {"tag", "x"}},
          {{"team", "pay"}}, {{"io.kubernetes.pod.name", "p"}}};
}

SessionProgress progress(uint64_t lines) {
  SessionProgress p;
  p.saved_wall_nanos = 1'700'000'000'000'000'000;
  p.limiter.byte_tokens = -12.5;
  p.limiter.pending.push_back({"stdout", lines, lines * 100, 1, 5, 6});
  p.batch_length = 4096;
  p.batch_crc = 0xdeadbeef;
  return p;
}

TEST(SessionStore, RecordsComeBackAsSaved) {
  FakeFileSystem fs;
  SessionStore store(fs, kDir);
  store.save(record());
  auto all = store.load_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].fifo, kFifo);
  EXPECT_EQ(all[0].opts, record().opts);
  EXPECT_EQ(all[0].attrs, record().attrs);
  EXPECT_EQ(all[0].labels, record().labels);
  store.remove(kFifo);
  EXPECT_TRUE(store.load_all().empty());
}

TEST(SessionStore, ACrashWhileSavingLeavesNoRecordOrAWholeOne) {
  for (int k = 0; k < 8; ++k) {
    FakeFileSystem fs;
    fs.crash_after(k);
    try {
      SessionStore(fs, kDir).save(record());
    } catch (const testing::FakeCrash&) {
    }
    auto disk = FakeFileSystem::recovered_from(fs);
    auto all = SessionStore(*disk, kDir).load_all();
    EXPECT_LE(all.size(), 1u);
    if (!all.empty()) {
      EXPECT_EQ(all[0].container_id, record().container_id);
    }
    for (const auto& [path, content] : disk->files()) {
      EXPECT_EQ(path.find(".tmp"), std::string::npos) << "left behind: " << path;
    }
  }
}

TEST(SessionStore, AnUnreadableRecordIsForgotten) {
  FakeFileSystem fs;
  fs.put(kDir + "/abc.session", "{not json");
  EXPECT_TRUE(SessionStore(fs, kDir).load_all().empty());
  EXPECT_FALSE(fs.exists(kDir + "/abc.session"));
}

TEST(ProgressLog, TheNewestIntactSlotWins) {
  FakeFileSystem fs;
  SessionStore store(fs, kDir);
  auto log = store.progress(kFifo);
  EXPECT_FALSE(log->load());
  log->save(progress(1));
  log->save(progress(2));
  auto back = store.progress(kFifo)->load();
  ASSERT_TRUE(back);
  EXPECT_EQ(back->limiter.pending[0].lines, 2u);
  EXPECT_EQ(back->limiter.byte_tokens, -12.5);
  EXPECT_EQ(back->batch_crc, 0xdeadbeefu);
}

TEST(ProgressLog, ATornSlotIsNeverTakenForValid) {
  FakeFileSystem fs;
  SessionStore store(fs, kDir);
  auto log = store.progress(kFifo);
  log->save(progress(1));  // slot 1
  log->save(progress(2));  // slot 0
  const std::string path = kDir + "/" + SessionStore::key(kFifo) + ".progress";
  std::string content = fs.read_all(path);
  content[60] ^= 0x5a;  // slot 0, inside its JSON: as if the write was torn
  fs.put(path, content);
  auto back = store.progress(kFifo)->load();
  ASSERT_TRUE(back);
  EXPECT_EQ(back->limiter.pending[0].lines, 1u);  // the older, intact slot
  content[ProgressLog::kSlotSize + 60] ^= 0x5a;
  fs.put(path, content);
  EXPECT_FALSE(store.progress(kFifo)->load());
}

TEST(ProgressLog, ASaveAfterLoadNeverOverwritesTheNewestSlot) {
  FakeFileSystem fs;
  SessionStore store(fs, kDir);
  store.progress(kFifo)->save(progress(1));
  auto log = store.progress(kFifo);
  ASSERT_TRUE(log->load());
  fs.crash_after(0);  // the next save dies before it writes
  EXPECT_THROW(log->save(progress(2)), testing::FakeCrash);
  auto disk = FakeFileSystem::recovered_from(fs);
  auto back = SessionStore(*disk, kDir).progress(kFifo)->load();
  ASSERT_TRUE(back);
  EXPECT_EQ(back->limiter.pending[0].lines, 1u);
}

TEST(SessionStore, KeysAreTheFifosHexNameOrAHash) {
  EXPECT_EQ(SessionStore::key(kFifo), std::string(64, 'e'));
  EXPECT_EQ(SessionStore::key("/tmp/../x y").size(), 16u);
}

}  // namespace
}  // namespace logguard
