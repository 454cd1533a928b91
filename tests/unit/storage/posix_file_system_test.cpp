// The real file system: the FileSystem contract, and beneath a root no
// symbolic link is ever followed.
#include "logguard/storage/posix_file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace logguard {
namespace {

TEST(PosixFileSystem, AFileKnowsWhenItsNameIsGone) {
  testing::TempDir tmp;
  auto fs = make_posix_file_system(tmp.path());
  auto f = fs->open_append(tmp / "f");
  EXPECT_FALSE(f->unlinked());
  fs->rename(tmp / "f", tmp / "g");  // renamed is still there
  EXPECT_FALSE(f->unlinked());
  fs->remove(tmp / "g");
  EXPECT_TRUE(f->unlinked());
}

TEST(PosixFileSystem, ListsADirectorysRegularFilesWithSizeAndTime) {
  testing::TempDir tmp;
  auto fs = make_posix_file_system(tmp.path());
  const std::string dir = tmp / "d";
  EXPECT_EQ(fs->list_files(dir), std::nullopt);  // missing
  fs->create_dirs(dir + "/sub");
  fs->open_append(dir + "/a")->append("abc");
  fs->create_symlink("a", dir + "/link");
  auto files = fs->list_files(dir);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);  // not the link, not the directory
  EXPECT_EQ((*files)[0].name, "a");
  EXPECT_EQ((*files)[0].size, 3u);
  EXPECT_EQ((*files)[0].modified_nanos, fs->modified_nanos(dir + "/a"));
  EXPECT_EQ(fs->list_files(dir + "/a"), std::nullopt);  // not a directory
}

TEST(PosixFileSystem, BehavesAsTheContractSays) {
  testing::TempDir tmp;
  for (const std::string& root : {std::string(), tmp.path()}) {
    SCOPED_TRACE(root.empty() ? "unrooted" : "rooted");
    auto rooted = make_posix_file_system(root);
    FileSystem& fs = *rooted;
    const std::string dir = tmp.path() + "/a/b";
    EXPECT_TRUE(fs.list_dir(dir).empty());
    EXPECT_EQ(fs.entry_type(dir), EntryType::kMissing);
    fs.create_dirs(dir);
    fs.create_dirs(dir);  // existing is fine
    EXPECT_EQ(fs.entry_type(dir), EntryType::kDirectory);
    EXPECT_EQ(fs.file_size(dir + "/f"), std::nullopt);
    auto f = fs.open_append(dir + "/f");
    f->append("abc");
    f->sync();
    f->close();
    f = fs.open_append(dir + "/f");  // never truncates
    f->append("def");
    EXPECT_FALSE(f->unlinked());
    f.reset();
    EXPECT_EQ(fs.entry_type(dir + "/f"), EntryType::kFile);
    EXPECT_EQ(fs.read_all(dir + "/f"), "abcdef");
    EXPECT_EQ(fs.file_size(dir + "/f"), 6u);
    EXPECT_GT(fs.modified_nanos(dir + "/f").value_or(0), 0);
    auto r = fs.open_read(dir + "/f");
    char buf[8] = {};
    EXPECT_EQ(r->read_at(2, buf, 8), 4u);
    EXPECT_EQ(std::string(buf, 4), "cdef");
    EXPECT_EQ(r->size(), 6u);
    fs.truncate(dir + "/f", 4);
    EXPECT_EQ(fs.read_all(dir + "/f"), "abcd");
    auto t = fs.open_truncate(dir + "/f");
    t->append("x");
    t->close();
    EXPECT_EQ(fs.read_all(dir + "/f"), "x");
    fs.rename(dir + "/f", dir + "/g");
    fs.sync_dir(dir);
    EXPECT_EQ(fs.list_dir(dir), std::vector<std::string>{"g"});
    fs.remove(dir + "/g");
    fs.remove(dir + "/g");  // missing is fine
    EXPECT_TRUE(fs.list_dir(dir).empty());
    try {
      fs.rename(dir + "/missing", dir + "/h");
      ADD_FAILURE() << "rename of a missing file succeeded";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), ENOENT);
    }
    EXPECT_THROW(fs.read_all(dir + "/missing"), std::system_error);
    fs.remove_dir(dir);
    fs.remove_dir(dir);  // missing is fine
    EXPECT_EQ(fs.entry_type(dir), EntryType::kMissing);
    std::filesystem::remove_all(tmp.path() + "/a");
  }
}

// Something with write access to the log root (a log shipper's read-write
// mount) plants links; logguard must neither write through them nor mix one
// container's log into another's.
class PlantedLinks : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/root";
    victim_ = tmp_.path() + "/victim";
    std::filesystem::create_directories(root_);
    std::filesystem::create_directories(victim_);
    std::ofstream(victim_ + "/passwd") << "precious\n";
    fs_ = make_posix_file_system(root_);
  }
  std::string victim_content() {
    std::ifstream in(victim_ + "/passwd");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  testing::TempDir tmp_;
  std::string root_, victim_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(PlantedLinks, ALinkedFileIsNeitherAppendedToNorTruncated) {
  std::filesystem::create_directories(root_ + "/c1");
  ::symlink((victim_ + "/passwd").c_str(), (root_ + "/c1/c1-json.log").c_str());
  try {
    fs_->open_append(root_ + "/c1/c1-json.log");
    ADD_FAILURE() << "appended through a link";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fs_->open_truncate(root_ + "/c1/c1-json.log"), std::system_error);
  EXPECT_THROW(fs_->truncate(root_ + "/c1/c1-json.log", 0), std::system_error);
  EXPECT_THROW(fs_->read_all(root_ + "/c1/c1-json.log"), std::system_error);
  EXPECT_EQ(victim_content(), "precious\n");
}

TEST_F(PlantedLinks, ALinkedDirectoryIsNotEntered) {
  ::symlink(victim_.c_str(), (root_ + "/c1").c_str());
  EXPECT_THROW(fs_->open_append(root_ + "/c1/passwd"), std::system_error);
  EXPECT_THROW(fs_->create_dirs(root_ + "/c1/sub"), std::system_error);
  EXPECT_THROW(fs_->list_dir(root_ + "/c1"), std::system_error);
  EXPECT_THROW(fs_->rename(root_ + "/c1/passwd", root_ + "/stolen"), std::system_error);
  EXPECT_THROW(fs_->remove(root_ + "/c1/passwd"), std::system_error);
  EXPECT_EQ(victim_content(), "precious\n");
  EXPECT_FALSE(std::filesystem::exists(victim_ + "/sub"));
  EXPECT_EQ(fs_->entry_type(root_ + "/c1"), EntryType::kOther);  // the link itself
}

TEST_F(PlantedLinks, RemovingALinkRemovesTheLinkNotItsTarget) {
  std::filesystem::create_directories(root_ + "/c1");
  ::symlink((victim_ + "/passwd").c_str(), (root_ + "/c1/c1-json.log.1").c_str());
  fs_->remove(root_ + "/c1/c1-json.log.1");
  EXPECT_FALSE(std::filesystem::is_symlink(root_ + "/c1/c1-json.log.1"));
  EXPECT_EQ(victim_content(), "precious\n");
}

TEST_F(PlantedLinks, AFifoIsNotOpenedAsALogFile) {
  std::filesystem::create_directories(root_ + "/c1");
  const std::string log = root_ + "/c1/c1-json.log";
  ASSERT_EQ(::mkfifo(log.c_str(), 0600), 0);
  // Opening a FIFO waits for its other end: each open must fail instead.
  EXPECT_THROW(fs_->open_append(log), std::system_error);
  EXPECT_THROW(fs_->open_truncate(log), std::system_error);
  EXPECT_THROW(fs_->open_overwrite(log), std::system_error);
  EXPECT_THROW(fs_->open_read(log), std::system_error);
  EXPECT_THROW(fs_->read_all(log), std::system_error);
  EXPECT_THROW(fs_->truncate(log, 0), std::system_error);
  // Also with its other end open (then opening it would not wait).
  const int reader = ::open(log.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  EXPECT_THROW(fs_->open_append(log), std::system_error);
  ::close(reader);
}

// A second name of a file may be anywhere on the filesystem (say
// /etc/shadow, for a hard link planted at a log's name): such a file is
// neither written, cut nor read.
TEST_F(PlantedLinks, AHardLinkedFileIsNeitherWrittenCutNorRead) {
  std::filesystem::create_directories(root_ + "/c1");
  const std::string log = root_ + "/c1/c1-json.log";
  ASSERT_EQ(::link((victim_ + "/passwd").c_str(), log.c_str()), 0);
  try {
    fs_->open_append(log);
    ADD_FAILURE() << "appended to a hard-linked file";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("hard links"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fs_->open_truncate(log), std::system_error);
  EXPECT_THROW(fs_->open_overwrite(log), std::system_error);
  EXPECT_THROW(fs_->truncate(log, 0), std::system_error);
  EXPECT_THROW(fs_->open_read(log), std::system_error);
  EXPECT_THROW(fs_->read_all(log), std::system_error);
  EXPECT_EQ(victim_content(), "precious\n");
  // Its name can still be removed (the other one keeps the file).
  fs_->remove(log);
  EXPECT_EQ(victim_content(), "precious\n");
  fs_->open_append(log)->append("mine\n");
  EXPECT_EQ(fs_->read_all(log), "mine\n");
}

TEST_F(PlantedLinks, ADirectoryIsNotOpenedAsAFile) {
  std::filesystem::create_directories(root_ + "/c1/c1-json.log");
  EXPECT_THROW(fs_->open_read(root_ + "/c1/c1-json.log"), std::system_error);
  EXPECT_THROW(fs_->read_all(root_ + "/c1/c1-json.log"), std::system_error);
  EXPECT_THROW(fs_->open_append(root_ + "/c1/c1-json.log"), std::system_error);
}

// The compressor's temps: made new, never over anything, never through a link.
TEST_F(PlantedLinks, AnExclusiveFileIsOnlyEverANewOne) {
  std::filesystem::create_directories(root_ + "/c1");
  const std::string temp = root_ + "/c1/temp";
  fs_->create_exclusive(temp)->append("x");
  EXPECT_THROW(fs_->create_exclusive(temp), std::system_error);  // exists
  ::symlink((victim_ + "/new").c_str(), (root_ + "/c1/planted").c_str());
  EXPECT_THROW(fs_->create_exclusive(root_ + "/c1/planted"), std::system_error);
  EXPECT_FALSE(std::filesystem::exists(victim_ + "/new"));
  ::symlink(victim_.c_str(), (root_ + "/c2").c_str());
  EXPECT_THROW(fs_->create_exclusive(root_ + "/c2/new"), std::system_error);
  EXPECT_FALSE(std::filesystem::exists(victim_ + "/new"));
}

// Which file a name holds, without following a link; the same as the open
// file's own, whatever it is renamed to.
TEST(PosixFileSystem, FileIdsNameFilesNotLinks) {
  testing::TempDir tmp;
  auto fs = make_posix_file_system(tmp.path());
  fs->open_append(tmp / "a")->append("a");
  auto file = fs->open_read(tmp / "a");
  ASSERT_TRUE(fs->file_id(tmp / "a"));
  EXPECT_EQ(*fs->file_id(tmp / "a"), file->id());
  fs->rename(tmp / "a", tmp / "b");
  EXPECT_EQ(*fs->file_id(tmp / "b"), file->id());
  EXPECT_EQ(fs->file_id(tmp / "a"), std::nullopt);
  fs->create_symlink("b", tmp / "link");
  EXPECT_NE(*fs->file_id(tmp / "link"), file->id());
}

}  // namespace
}  // namespace logguard
