// Crash safety (issue 3): a real child process is killed with SIGKILL in the middle of an
// import; the store must then open, pass integrity_check and hold exactly the committed data.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "store/store.h"
#include "store_test_util.h"

namespace iocgrid::store {
namespace {

using testing::Attr;
using testing::MakeEvent;
using testing::TempDir;
using testing::U;

// Starts the helper with a pipe, waits for its 'R', optionally lets it run `run_more`, then
// kills it with SIGKILL and reaps it.
void RunAndKill(const std::string& dir, std::vector<std::string> args,
                std::chrono::milliseconds run_more) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::vector<std::string> argv_storage = {IOCGRID_STORE_CRASH_HELPER, dir, std::to_string(fds[1])};
  for (std::string& a : args) argv_storage.push_back(std::move(a));
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  char ready = 0;
  ssize_t n = read(fds[0], &ready, 1);
  close(fds[0]);
  ASSERT_EQ(n, 1) << "helper exited before signalling readiness";
  ASSERT_EQ(ready, 'R');
  std::this_thread::sleep_for(run_more);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "helper was not killed (status " << status << ")";
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(StoreCrashTest, KillDuringLargeImportKeepsPreviousDataIntact) {
  TempDir dir;
  {
    auto store = Store::Open(dir.path(), {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    core::Event before =
        MakeEvent(U(1), "before the crash",
                  {Attr("ip-dst", "198.51.100.7", U(101)), Attr("domain", "evil.example", U(102))});
    ASSERT_TRUE((*store)->ImportEvents({&before, 1}, {}).ok());
  }
  RunAndKill(dir.path(), {"big", "300000"}, std::chrono::milliseconds(0));

  auto store = Store::Open(dir.path(), {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->CheckIntegrity().ok()) << (*store)->CheckIntegrity().ToString();
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 1u);
  EXPECT_EQ(stats->attributes, 2u);
  EXPECT_EQ((*store)->GetEvent(U(2), {}).status().code(), StatusCode::kNotFound);
  auto event = (*store)->GetEvent(U(1), {});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->event.info, "before the crash");
  ASSERT_EQ(event->attributes.size(), 2u);
  // The store keeps working after recovery, including the interrupted event.
  core::Event retry = MakeEvent(U(2), "retried", testing::ManyIps(1000, 2, true));
  auto retried = (*store)->ImportEvents({&retry, 1}, {});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->attributes_added, 1000u);
}

TEST(StoreCrashTest, KillDuringStreamOfImportsLeavesOnlyWholeEvents) {
  TempDir dir;
  RunAndKill(dir.path(), {"many"}, std::chrono::milliseconds(300));
  auto store = Store::Open(dir.path(), {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->CheckIntegrity().ok());
  auto events = (*store)->ListEvents({});
  ASSERT_TRUE(events.ok());
  ASSERT_GE(events->size(), 1u);
  for (const EventInfo& e : *events) {
    EXPECT_EQ(e.attribute_count, 100) << e.info;  // every event whole, none partial
  }
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->attributes, 100 * events->size());
}

}  // namespace
}  // namespace iocgrid::store
