// What a restarted plugin reads back: records written crash-safely, and
// progress slots of which a torn one is never taken for valid.
#include "logguard/storage/session_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "fake_file_system.h"
#include "logguard/storage/posix_file_system.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;
using testing::QuietLogs;
using testing::TempDir;

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

// A file system whose syncs stand for a disk that takes seconds to answer
// (a flood's write-back ahead of them): a save must not wait for one.
class SlowSyncs : public FakeFileSystem {
 public:
  int syncs = 0;
  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override {
    return std::make_unique<Counted>(FakeFileSystem::open_truncate(path), syncs);
  }
  void sync_dir(const std::string& dir) override {
    ++syncs;
    FakeFileSystem::sync_dir(dir);
  }

 private:
  struct Counted : WritableFile {
    Counted(std::unique_ptr<WritableFile> f, int& n) : file(std::move(f)), syncs(n) {}
    void append(std::string_view data) override { file->append(data); }
    void write_at(uint64_t offset, std::string_view data) override { file->write_at(offset, data); }
    void sync() override {
      ++syncs;
      file->sync();
    }
    void close() override { file->close(); }
    bool unlinked() override { return file->unlinked(); }
    std::unique_ptr<WritableFile> file;
    int& syncs;
  };
};

// StartLogging waits for the save: it syncs nothing. A record only has to
// outlive the plugin's process (the page cache does); after the node's
// crash no FIFO it names exists.
TEST(SessionStore, ASaveWaitsForNoDiskSync) {
  SlowSyncs fs;
  SessionStore store(fs, kDir);
  store.save(record());
  EXPECT_EQ(fs.syncs, 0);
  EXPECT_EQ(store.load_all().size(), 1u);
}

TEST(SessionStore, ADamagedRecordIsSetAside) {
  QuietLogs quiet;
  FakeFileSystem fs;
  fs.put(kDir + "/abc.session", "{not json");
  fs.put(kDir + "/def.session", R"({"fifo": "/f", "container_id": "not an ID"})");
  SessionStore store(fs, kDir);
  store.save(record());
  auto all = store.load_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].fifo, kFifo);
  // Kept for a person to look at, never read again.
  EXPECT_EQ(fs.files()[kDir + "/abc.session.damaged"], "{not json");
  EXPECT_TRUE(fs.exists(kDir + "/def.session.damaged"));
  EXPECT_FALSE(fs.exists(kDir + "/abc.session"));
  EXPECT_EQ(store.load_all().size(), 1u);
}

// Entries no save makes: directories under a record's or a temporary's
// name. Loading used to throw on them (unlink of a directory), and the
// plugin exited at every start.
TEST(SessionStore, EntriesThatAreNotFilesAreSetAsideNotThrown) {
  QuietLogs quiet;
  TempDir dir;
  auto fs = make_posix_file_system(dir.path());
  const std::string sessions = dir / "sessions";
  SessionStore store(*fs, sessions);
  store.save(record());
  std::filesystem::create_directories(sessions + "/a.session/inside");
  std::filesystem::create_directories(sessions + "/b.tmp");
  ASSERT_EQ(::mkfifo((sessions + "/c.session").c_str(), 0600), 0);  // read, it would block
  std::vector<SessionRecord> all;
  ASSERT_NO_THROW(all = store.load_all());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].fifo, kFifo);
  EXPECT_TRUE(std::filesystem::is_directory(sessions + "/a.session.damaged/inside"));
  EXPECT_TRUE(std::filesystem::is_directory(sessions + "/b.tmp.damaged"));
  EXPECT_TRUE(std::filesystem::is_fifo(sessions + "/c.session.damaged"));
}

// Refuses every change, as a read-only state directory does.
class ReadOnlyFileSystem : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  std::unique_ptr<WritableFile> open_append(const std::string& path) override { refuse(path); }
  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override { refuse(path); }
  std::unique_ptr<WritableFile> open_overwrite(const std::string& path) override {
    refuse(path);
  }
  void rename(const std::string& from, const std::string&) override { refuse(from); }
  void remove(const std::string& path) override { refuse(path); }
  void create_dirs(const std::string& dir) override { refuse(dir); }

 private:
  [[noreturn]] static void refuse(const std::string& path) {
    throw std::system_error(EROFS, std::generic_category(), path);
  }
};

TEST(SessionStore, AReadOnlyDirectoryIsStillRead) {
  QuietLogs quiet;
  FakeFileSystem fs;
  SessionStore(fs, kDir).save(record());
  fs.put(kDir + "/abc.session", "{not json");
  fs.put(kDir + "/torn.session.tmp", "{");
  ReadOnlyFileSystem read_only(fs);
  std::vector<SessionRecord> all;
  ASSERT_NO_THROW(all = SessionStore(read_only, kDir).load_all());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].fifo, kFifo);
  EXPECT_TRUE(fs.exists(kDir + "/abc.session"));  // skipped, left as it was
  EXPECT_TRUE(fs.exists(kDir + "/torn.session.tmp"));
}

TEST(SessionStore, ADirectoryThatCannotBeListedHoldsNoSessions) {
  QuietLogs quiet;
  FakeFileSystem fs;
  SessionStore(fs, kDir).save(record());
  struct Unlistable : FileSystemWrapper {
    using FileSystemWrapper::FileSystemWrapper;
    std::vector<std::string> list_dir(const std::string& dir) override {
      throw std::system_error(EACCES, std::generic_category(), "opendir " + dir);
    }
  } unlistable(fs);
  std::vector<SessionRecord> all{record()};
  ASSERT_NO_THROW(all = SessionStore(unlistable, kDir).load_all());
  EXPECT_TRUE(all.empty());
}

TEST(ProgressLog, AnUnreadableProgressIsNoneNotAFailure) {
  QuietLogs quiet;
  TempDir dir;
  auto fs = make_posix_file_system(dir.path());
  std::filesystem::create_directories(dir / "x.progress");
  ProgressLog log(*fs, dir / "x.progress");
  std::optional<SessionProgress> loaded = progress(1);
  ASSERT_NO_THROW(loaded = log.load());
  EXPECT_FALSE(loaded.has_value());
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
