// libFuzzer target for the node's grid match request (issue 8): POST /grid/v1/match bodies
// (a JSON array, {"indicators": [...], "since", "until", "relations", ...}, or NDJSON lines)
// through node::HandleGridMatch against a real store with a few attributes, answer streamed to
// the end. An input whose first line starts with '?' gives that line as the query string
// (?since=..&relations=..&max_hits_per_indicator=..&include_misses=..).
// Properties: no crash, no exception, no hang; every answer line is valid JSON (UTF-8 included);
// a streamed answer ends with its {"done": true} summary.
#include <stdlib.h>  // mkdtemp

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fuzz/fuzz_checks.h"
#include "node/internal/grid.h"
#include "node/node.h"

namespace {

using namespace iocgrid;

// A little member data, so that requests reach the matching and context code paths.
constexpr std::string_view kMemberData =
    "type,value,comment\n"
    "ip-dst,203.0.113.7,c2\n"
    "ip-dst,198.51.100.0/24,scanner range\n"
    "domain,evil.example,phishing\n"
    "url,http://bad.example/login,kit\n"
    "md5,d41d8cd98f00b204e9800998ecf8427e,empty\n"
    "email-src,ceo@evil.example,bec\n"
    "domain|ip,mail.evil.example|192.0.2.1,mx\n";

// A node on a temporary folder, removed at exit.
class Fixture {
 public:
  Fixture() {
    std::string templ = (std::filesystem::temp_directory_path() / "iocgrid-fuzz-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) fuzz::Fail("mkdtemp", templ);
    dir_ = templ;
    node::NodeOptions options;
    options.data_dir = dir_.string();
    auto opened = node::Node::Open(options);
    if (!opened.ok()) fuzz::Fail("Node::Open", opened.status().message());
    node_ = std::move(*opened);
    std::vector<core::Event> events;
    ingest::LoadOptions load;
    load.format = ingest::InputFormat::kCsv;
    auto loaded = ingest::LoadContent(
        "member.csv", kMemberData, load, [&](core::Event&& e) { events.push_back(std::move(e)); },
        [](const ingest::LoadIssue& issue) { fuzz::Fail("fixture data", issue.message); });
    if (!loaded.ok()) fuzz::Fail("fixture data", loaded.status().message());
    auto imported = node_->store().ImportEvents(events, store::ImportOptions{});
    if (!imported.ok()) fuzz::Fail("ImportEvents", imported.status().message());
    if (auto s = node_->RefreshIndex(); !s.ok()) fuzz::Fail("RefreshIndex", s.message());
  }
  ~Fixture() {
    node_.reset();
    std::error_code ec;  // best effort
    std::filesystem::remove_all(dir_, ec);
  }
  node::Node& node() { return *node_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<node::Node> node_;
};

void CheckJsonLine(std::string_view line, std::string_view input) {
  if (!nlohmann::json::accept(line)) {
    fuzz::Fail("grid answer line is not valid JSON",
               std::string(line) + "\n(input: " + std::string(input.substr(0, 200)) + ")");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  net::Request request;
  request.method = "POST";
  request.target = request.path = "/grid/v1/match";
  if (!text.empty() && text.front() == '?') {
    size_t nl = text.find('\n');
    request.query = std::string(text.substr(1, nl == std::string_view::npos ? nl : nl - 1));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  request.body = std::string(text);
  node::GridContext context{&fixture.node().store(), fixture.node().snapshot(),
                            /*max_values=*/1000, /*chunk=*/16,
                            /*now=*/1'700'000'000};  // fixed: a replay is the same every day
  uint64_t value_count = 0;
  net::Response response = node::HandleGridMatch(request, context, &value_count, nullptr);
  if (!response.stream) {
    if (response.status < 400) fuzz::Fail("grid answer without a stream", response.body);
    CheckJsonLine(response.body, text);
    return 0;
  }
  std::string answer;
  std::string chunk;
  for (bool more = true; more;) {
    chunk.clear();
    more = response.stream(&chunk);
    answer += chunk;
  }
  if (std::getenv("IOCGRID_FUZZ_DUMP") != nullptr)
    std::fwrite(answer.data(), 1, answer.size(), stderr);
  std::string_view rest = answer;
  std::string_view last;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) fuzz::Fail("grid answer line without a newline", rest);
    last = rest.substr(0, nl);
    CheckJsonLine(last, text);
    rest.remove_prefix(nl + 1);
  }
  if (last.find("\"done\":true") == std::string_view::npos) {
    fuzz::Fail("grid answer without its summary line", last);
  }
  return 0;
}
