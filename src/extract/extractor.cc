#include "extract/extractor.h"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include "core/ip.h"
#include "extract/internal/btc_address.h"
#include "extract/internal/string_table.h"
#include "extract/internal/text.h"
#include "extract/internal/warninglists.h"

namespace iocgrid::extract {

using core::IndicatorType;
using internal::EqualsNoCase;
using internal::IsAlnum;
using internal::IsAlpha;
using internal::IsDigit;
using internal::IsHex;
using internal::IsLabelChar;
using internal::IsSpace;
using internal::Lower;
using internal::StartsWithNoCase;
using T = IndicatorType;

namespace {

// ---- Hyperscan handles
// ----------------------------------------------------------------------

struct HsDatabaseDeleter {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
struct HsScratchDeleter {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};
using HsDatabase = std::unique_ptr<hs_database_t, HsDatabaseDeleter>;
using HsScratch = std::unique_ptr<hs_scratch_t, HsScratchDeleter>;

struct Pattern {
  std::string expression;
  unsigned flags;
};

Result<HsDatabase> Compile(const std::vector<Pattern>& patterns) {
  std::vector<const char*> exprs;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (patterns[i].expression.empty()) continue;  // an anchor found without Hyperscan
    exprs.push_back(patterns[i].expression.c_str());
    flags.push_back(patterns[i].flags);
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    std::string msg = "hyperscan: ";
    msg += err != nullptr && err->message != nullptr ? err->message : "compile failed";
    if (err != nullptr && err->expression >= 0) {
      msg += " in pattern " + patterns[static_cast<size_t>(err->expression)].expression;
    }
    hs_free_compile_error(err);
    return InternalError(msg);
  }
  return HsDatabase(db);
}

// Escapes a literal for a Hyperscan expression (every non-alphanumeric byte as
// \xHH).
std::string Literal(std::string_view s) {
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    if (IsAlnum(c)) {
      out += c;
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// ---- pass 1: refanging
// ----------------------------------------------------------------------

enum class RefangKind : uint8_t { kDot, kSpacedDot, kColon, kScheme, kAt, kSlash, kSchemeSep };

struct RefangRule {
  std::string_view from;
  std::string_view to;
  RefangKind kind;
};

// Longest forms first where one is a prefix of another; matched
// case-insensitively.
constexpr RefangRule kRefangRules[] = {
    {"[.]", ".", RefangKind::kDot},
    {"(.)", ".", RefangKind::kDot},
    {"{.}", ".", RefangKind::kDot},
    {"[dot]", ".", RefangKind::kDot},
    {"(dot)", ".", RefangKind::kDot},
    {"{dot}", ".", RefangKind::kDot},
    {"\\.", ".", RefangKind::kDot},
    {" dot ", ".", RefangKind::kSpacedDot},
    {"[://]", "://", RefangKind::kSchemeSep},
    {"[:]//", "://", RefangKind::kSchemeSep},
    {"[:]", ":", RefangKind::kColon},
    {"[/]", "/", RefangKind::kSlash},
    {"[@]", "@", RefangKind::kAt},
    {"[at]", "@", RefangKind::kAt},
    {"(at)", "@", RefangKind::kAt},
    {"{at}", "@", RefangKind::kAt},
    {"hxxp", "http", RefangKind::kScheme},
    {"hxtp", "http", RefangKind::kScheme},
    {"htxp", "http", RefangKind::kScheme},
    {"h**p", "http", RefangKind::kScheme},
    {"fxp", "ftp", RefangKind::kScheme},
    {"\xEF\xBC\x8E", ".", RefangKind::kDot},                          // FULLWIDTH FULL STOP
    {"\xEF\xBC\xBB.\xEF\xBC\xBD", ".", RefangKind::kDot},             // ［.］
    {"\xEF\xBC\xBB\xEF\xBC\x8E\xEF\xBC\xBD", ".", RefangKind::kDot},  // ［．］
    {"[\xEF\xBC\x8E]", ".", RefangKind::kDot},                        // [．]
    {"\xEF\xBC\xA0", "@", RefangKind::kAt},                           // FULLWIDTH COMMERCIAL AT
};

struct Edit {
  size_t norm_pos;  // where the replacement starts in the normalized text
  size_t orig_pos;  // where the defanged form starts in the original text
  uint32_t orig_len;
  uint32_t new_len;
  RefangKind kind;
};

// ---- pass 2: candidate anchors
// --------------------------------------------------------------

enum Anchor : uint8_t {
  kAnchorUrl,
  kAnchorDomain,
  kAnchorIpv4,
  kAnchorEmail,
  kAnchorIpv6,
  kAnchorHex,
  kAnchorCve,
  kAnchorAsn,
  kAnchorBtc58,
  kAnchorBech32,
  kAnchorSsdeep,
  kAnchorDrivePath,
  kAnchorEnvPath,
  kAnchorUncPath,
  kAnchorRegkey,
  kAnchorFile,
  kAnchorCount,
};

// Executable, script and macro-document extensions that make a word a file
// name.
constexpr std::string_view kFileExtensions =
    "exe|dll|sys|scr|cpl|ocx|drv|bat|cmd|ps1|psm1|psd1|vbs|vbe|js|jse|wsf|wsh|"
    "hta|lnk|msi|"
    "msp|msc|jar|apk|elf|dylib|docm|xlsm|pptm|xlam|dotm|sh|py|bin|pif|gadget|"
    "reg|inf|iso|img|vhd";

std::vector<Pattern> AnchorPatterns() {
  std::vector<Pattern> p(kAnchorCount);
  p[kAnchorUrl] = {R"(\b(?:https?|ftps?|sftp)://)", HS_FLAG_CASELESS};
  // The dot-anchored shapes (kAnchorDomain "[A-Za-z0-9_-]\.[A-Za-z]{2}",
  // kAnchorIpv4
  // "\d\.\d{1,3}\.\d{1,3}\.\d", kAnchorFile "[A-Za-z0-9_\-)\]]\.(?:exe|...)\b")
  // come from one memchr pass over the dots (FindDots): in Hyperscan they
  // matched at most of an indicator-dense report's dots and cost as much as all
  // the other patterns.
  p[kAnchorEmail] = {R"([A-Za-z0-9._%+\-]@[A-Za-z0-9])", 0};
  p[kAnchorIpv6] = {R"((?:[0-9A-Fa-f]{1,4}:){2}|::[0-9A-Fa-f])", 0};
  // Hex runs (kAnchorHex) and base58 words (kAnchorBtc58) are long alphanumeric
  // words, which FindLongWords() finds by sampling every 26th byte: as
  // Hyperscan patterns ("[0-9A-Fa-f]{32}" reports every byte of a digest) they
  // cost more than the rest of the scan together.
  p[kAnchorCve] = {R"(\bCVE-\d{4}-\d{4})", HS_FLAG_CASELESS};
  p[kAnchorAsn] = {R"(\bAS(?:N ?)?\d)", 0};
  p[kAnchorBech32] = {R"(\bbc1[02-9ac-hj-np-z]{8})", HS_FLAG_CASELESS};
  // "\b\d{1,10}:" is checked in ScanSsdeep: the bounded repeat after \b is slow
  // in Hyperscan.
  p[kAnchorSsdeep] = {R"(\d:[A-Za-z0-9/+]{3})", 0};
  p[kAnchorDrivePath] = {R"(\b[A-Za-z]:\\)", 0};
  p[kAnchorEnvPath] = {R"(%[A-Za-z_][A-Za-z0-9_()]{0,40}%\\)", 0};
  p[kAnchorUncPath] = {R"(\\\\[A-Za-z0-9])", 0};
  p[kAnchorRegkey] = {
      R"(\bHK(?:LM|CU|CR|U|CC|EY_LOCAL_MACHINE|EY_CURRENT_USER|EY_CLASSES_ROOT|EY_USERS|)"
      R"(EY_CURRENT_CONFIG):?\\)",
      HS_FLAG_CASELESS};
  return p;
}

// Well-known Windows system binaries and libraries: reported as indicators only
// when found outside the system directories (a masquerading
// C:\Users\Public\svchost.exe stays).
constexpr std::string_view kWellKnownFiles[] = {
    "advapi32.dll",   "at.exe",         "attrib.exe",     "bcdedit.exe",  "bcrypt.dll",
    "bitsadmin.exe",  "certutil.exe",   "cmd.exe",        "comctl32.dll", "conhost.exe",
    "crypt32.dll",    "cscript.exe",    "csrss.exe",      "ctfmon.exe",   "dllhost.exe",
    "dwm.exe",        "explorer.exe",   "gdi32.dll",      "icacls.exe",   "iexplore.exe",
    "ipconfig.exe",   "kernel32.dll",   "kernelbase.dll", "lsass.exe",    "mpcmdrun.exe",
    "msbuild.exe",    "msedge.exe",     "mshta.exe",      "msiexec.exe",  "mstsc.exe",
    "msvcrt.dll",     "net.exe",        "net1.exe",       "netsh.exe",    "netstat.exe",
    "nltest.exe",     "notepad.exe",    "ntdll.dll",      "ole32.dll",    "oleaut32.dll",
    "ping.exe",       "powershell.exe", "pwsh.exe",       "reg.exe",      "regedit.exe",
    "regsvr32.exe",   "rundll32.exe",   "sc.exe",         "schtasks.exe", "services.exe",
    "shell32.dll",    "shlwapi.dll",    "smss.exe",       "spoolsv.exe",  "svchost.exe",
    "systeminfo.exe", "taskhost.exe",   "taskhostw.exe",  "taskkill.exe", "tasklist.exe",
    "taskmgr.exe",    "urlmon.dll",     "user32.dll",     "userenv.dll",  "userinit.exe",
    "vssadmin.exe",   "wbadmin.exe",    "wevtutil.exe",   "whoami.exe",   "wininet.dll",
    "winlogon.exe",   "winword.exe",    "wmic.exe",       "ws2_32.dll",   "wscript.exe",
    "wtsapi32.dll",   "excel.exe",      "outlook.exe",    "node.js",      "vue.js",
    "react.js",       "next.js",        "angular.js",     "three.js",     "d3.js",
    "express.js",     "chart.js",       "jquery.js",      "jquery.min.js"};

constexpr std::string_view kSystemDirs[] = {"c:\\windows\\",
                                            "c:\\windows\\system32\\",
                                            "c:\\windows\\syswow64\\",
                                            "%windir%\\",
                                            "%systemroot%\\",
                                            "%windir%\\system32\\",
                                            "%systemroot%\\system32\\",
                                            "%system32%\\",
                                            "c:\\program files\\windows defender\\",
                                            "%programfiles%\\windows defender\\",
                                            "c:\\windows\\system32\\windowspowershell\\v1.0\\"};

// Extensions that are also TLDs: a plain "name.ext" with one of them is more
// likely a file.
constexpr std::string_view kFileLikeTlds[] = {"zip", "mov", "py", "sh",  "md", "so",  "ps",
                                              "rs",  "pl",  "ai", "pub", "mp", "cab", "bat",
                                              "exe", "rar", "gz", "doc", "pdf"};

constexpr std::string_view kVersionWords[] = {
    "version", "ver",    "v",     "build",  "release",  "rev",     "revision",  "firmware",
    "fw",      "update", "patch", "kernel", "versions", "versión", "バージョン"};

constexpr std::string_view kMessageIdHeaders[] = {"message-id", "in-reply-to", "references",
                                                  "resent-message-id", "x-message-id"};

struct PublicDns {
  const char* ip;
};
constexpr PublicDns kPublicDns[] = {{"8.8.8.8"},
                                    {"8.8.4.4"},
                                    {"1.1.1.1"},
                                    {"1.0.0.1"},
                                    {"9.9.9.9"},
                                    {"149.112.112.112"},
                                    {"208.67.222.222"},
                                    {"208.67.220.220"},
                                    {"64.6.64.6"},
                                    {"64.6.65.6"},
                                    {"4.2.2.1"},
                                    {"4.2.2.2"},
                                    {"4.2.2.3"},
                                    {"4.2.2.4"},
                                    {"4.2.2.5"},
                                    {"4.2.2.6"},
                                    {"8.26.56.26"},
                                    {"8.20.247.20"},
                                    {"94.140.14.14"},
                                    {"94.140.15.15"},
                                    {"185.228.168.9"},
                                    {"185.228.169.9"},
                                    {"76.76.2.0"},
                                    {"76.76.10.0"},
                                    {"2001:4860:4860::8888"},
                                    {"2001:4860:4860::8844"},
                                    {"2606:4700:4700::1111"},
                                    {"2606:4700:4700::1001"},
                                    {"2620:fe::fe"},
                                    {"2620:fe::9"},
                                    {"2620:119:35::35"},
                                    {"2620:119:53::53"}};

struct Range {
  const char* cidr;
  const char* reason;  // the list part of "reserved-ip:<reason>"
};
// IANA special-purpose registries (RFC 6890 and successors).
constexpr Range kReservedRanges[] = {{"0.0.0.0/8", "unspecified"},
                                     {"10.0.0.0/8", "private"},
                                     {"100.64.0.0/10", "shared"},
                                     {"127.0.0.0/8", "loopback"},
                                     {"169.254.0.0/16", "link-local"},
                                     {"172.16.0.0/12", "private"},
                                     {"192.0.0.0/24", "reserved"},
                                     {"192.0.2.0/24", "documentation"},
                                     {"192.88.99.0/24", "reserved"},
                                     {"192.168.0.0/16", "private"},
                                     {"198.18.0.0/15", "benchmarking"},
                                     {"198.51.100.0/24", "documentation"},
                                     {"203.0.113.0/24", "documentation"},
                                     {"224.0.0.0/4", "multicast"},
                                     {"240.0.0.0/4", "reserved"},
                                     {"::/128", "unspecified"},
                                     {"::1/128", "loopback"},
                                     {"100::/64", "reserved"},
                                     {"2001:db8::/32", "documentation"},
                                     {"fc00::/7", "private"},
                                     {"fe80::/10", "link-local"},
                                     {"ff00::/8", "multicast"}};

bool InNetwork(const core::IpNetwork& ip, const core::IpNetwork& range) {
  if (ip.v6 != range.v6 || ip.prefix < range.prefix) return false;
  int bits = range.prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - bits));
    if ((ip.bytes[i] & mask) != (range.bytes[i] & mask)) return false;
  }
  return true;
}

constexpr std::string_view kFilterNames[] = {
    "reserved-ip",    "public-dns",      "provider-ip",    "popular-domain",       "vendor-domain",
    "special-domain", "ignored-domain",  "version-number", "filename-like-domain", "embedded-hex",
    "benign-hash",    "well-known-file", "message-id",     "reserved-asn"};

bool* FilterFlag(ExtractFilters& f, std::string_view name) {
  if (name == "reserved-ip") return &f.reserved_ip;
  if (name == "public-dns") return &f.public_dns;
  if (name == "provider-ip") return &f.provider_ip;
  if (name == "popular-domain") return &f.popular_domain;
  if (name == "vendor-domain") return &f.vendor_domain;
  if (name == "special-domain") return &f.special_domain;
  if (name == "ignored-domain") return &f.ignored_domain;
  if (name == "version-number") return &f.version_number;
  if (name == "filename-like-domain") return &f.filename_like_domain;
  if (name == "embedded-hex") return &f.embedded_hex;
  if (name == "benign-hash") return &f.benign_hash;
  if (name == "well-known-file") return &f.system_file;
  if (name == "message-id") return &f.message_id;
  if (name == "reserved-asn") return &f.reserved_asn;
  return nullptr;
}

}  // namespace

namespace {
struct Workspace;  // one call's reusable buffers, below
}  // namespace

// ---- the extractor's immutable state
// ------------------------------------------------------

struct Extractor::Impl {
  ExtractOptions options;
  internal::Warninglists lists;
  HsDatabase refang_db;
  HsDatabase anchor_db;
  HsScratch prototype;
  std::vector<core::IpNetwork> reserved;  // parallel to kReservedRanges
  std::vector<core::IpNetwork> public_dns;
  std::vector<std::string> ignore_domains;  // normalized
  std::unordered_set<IndicatorType> types;
  std::array<bool, 256> allowed{};        // by IndicatorType value: `types` empty, or in it
  internal::StringTable file_extensions;  // kFileExtensions, lower-case
  std::unordered_set<std::string_view> well_known_files;

  // Scratch pool: Extract() is const and concurrent; each call borrows a
  // scratch.
  mutable std::mutex pool_mu;
  mutable std::vector<HsScratch> pool;

  HsScratch Borrow() const {
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        HsScratch s = std::move(pool.back());
        pool.pop_back();
        return s;
      }
    }
    hs_scratch_t* s = nullptr;
    if (hs_clone_scratch(prototype.get(), &s) != HS_SUCCESS) return nullptr;
    return HsScratch(s);
  }
  void Return(HsScratch s) const {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (pool.size() < 16) pool.push_back(std::move(s));
  }

  // Working buffers (the refanged copy, claims, de-duplication, anchors) kept between calls, so
  // that a call does not page-fault them in again: at most kMaxPooledBytes in all. A call's
  // buffers take about twice its text, so a 32 MiB text's are kept and a 64 MiB text's freed.
  static constexpr size_t kMaxPooledBytes = size_t{128} << 20;
  mutable std::vector<std::unique_ptr<Workspace>> workspaces;
  mutable size_t pooled_bytes = 0;

  std::unique_ptr<Workspace> BorrowWorkspace() const;
  void ReturnWorkspace(std::unique_ptr<Workspace> ws) const;
};

namespace {

// ---- one Extract() call
// --------------------------------------------------------------------

// Why a filter flagged an occurrence: "<filter>" or "<filter>:<list>". Both
// parts view static strings or the Impl's warninglists, so a reason costs no
// allocation until it is reported.
struct Reason {
  std::string_view filter;  // empty: not flagged
  std::string_view list;

  bool empty() const { return filter.empty(); }
  std::string ToString() const {
    std::string out(filter);
    if (!list.empty()) {
      out += ':';
      out += list;
    }
    return out;
  }
};

// One distinct (type, normalized value): where it first occurs and what its
// occurrences say.
struct Entry {
  uint64_t hash;
  uint32_t value_offset;  // in Run::values_
  uint32_t value_length;
  IndicatorType type;
  bool defanged;  // some occurrence was defanged
  bool kept;      // some occurrence was not flagged
  size_t start;   // normalized offsets of the first occurrence
  size_t end;
  Reason reason;  // of the first occurrence
};

// An offset in the text in the anchor lists (Go() refuses texts of 4 GiB or more): half the
// memory of size_t on indicator-dense text.
using Pos = uint32_t;

struct Event {
  uint32_t anchor;
  Pos end;
};

// A maximal run of 32 or more hex digits, as FindLongWords() found it: ScanHex()
// takes its bounds and shape from here instead of scanning the run again.
struct HexRun {
  Pos start;
  Pos end;
  bool glued;       // an alphanumeric byte touches it (part of a longer word)
  bool upper;       // holds an upper-case letter
  bool all_digits;  // decimal only
};

struct EventSink {
  std::vector<Event>& events;  // must outlive the scan
  size_t last[kAnchorCount];
};

int CollectEvent(unsigned id, unsigned long long /*from*/, unsigned long long to,
                 unsigned /*flags*/, void* ctx) {
  auto* sink = static_cast<EventSink*>(ctx);
  // Consecutive ends of one pattern collapse into the last one: memory stays
  // proportional to the number of tokens, not of bytes.
  size_t& last = sink->last[id];
  if (last != SIZE_MAX && sink->events[last].end + 1 == to) {
    sink->events[last].end = static_cast<Pos>(to);
    return 0;
  }
  last = sink->events.size();
  sink->events.push_back({id, static_cast<Pos>(to)});
  return 0;
}

struct RefangMatch {
  size_t start;
  size_t end;
  unsigned rule;
};

int CollectRefang(unsigned id, unsigned long long /*from*/, unsigned long long to,
                  unsigned /*flags*/, void* ctx) {
  auto* out = static_cast<std::vector<RefangMatch>*>(ctx);
  size_t len = kRefangRules[id].from.size();
  out->push_back({static_cast<size_t>(to) - len, static_cast<size_t>(to), id});
  return 0;
}

// Claims: each scanner marks the bytes it takes, and later (less specific)
// scanners skip tokens overlapping stronger claims. The kinds nest: a query for
// URL claims, for URL or path claims, for URL, path or e-mail claims, or for
// any claim. So a byte's claim is one level, the strongest kind covering it,
// and the set keeps one bit array per level ("level >= k"): a quarter of the
// memory of a byte per position, and word-wide range queries.
enum ClaimLevel : uint8_t {
  kClaimAny = 0,  // file names, hosts, hashes and the rest
  kClaimEmail = 1,
  kClaimPath = 2,
  kClaimUrl = 3,
};
constexpr int kClaimLevels = 4;

class ClaimSet {
 public:
  // Empties the set and sizes it for `size` positions. The pages it has go to a spare list and
  // are zeroed when claimed again, so that a reused set costs nothing where nothing is claimed.
  void Reset(size_t size) {
    size_ = size;
    for (auto& pages : pages_) {
      for (Page& page : pages) {
        if (page) spare_.push_back(std::move(page));
      }
      pages.clear();
      pages.resize((size + kPageBits - 1) / kPageBits);
    }
  }

  // The memory the set holds.
  size_t RetainedBytes() const {
    size_t bytes = spare_.capacity() * sizeof(Page) + spare_.size() * kPageWords * sizeof(uint64_t);
    for (const auto& pages : pages_) {
      bytes += pages.capacity() * sizeof(Page);
      for (const Page& page : pages) bytes += page ? kPageWords * sizeof(uint64_t) : 0;
    }
    return bytes;
  }

  // Marks [start, end) with `level` (and so every weaker level).
  void Claim(size_t start, size_t end, ClaimLevel level) {
    end = std::min(end, size_);
    if (start >= end) return;
    for (int l = 0; l <= level; ++l) SetRange(pages_[l], start, end);
  }

  // Whether a byte of [start, end) holds a claim of `level` or stronger.
  bool Claimed(size_t start, size_t end, ClaimLevel level) const {
    end = std::min(end, size_);
    if (start >= end) return false;
    const Pages& pages = pages_[level];
    size_t first = start / 64;
    size_t last = (end - 1) / 64;
    uint64_t head = ~uint64_t{0} << (start % 64);
    uint64_t tail = ~uint64_t{0} >> (63 - (end - 1) % 64);
    if (first == last) return (Word(pages, first) & head & tail) != 0;
    if ((Word(pages, first) & head) != 0 || (Word(pages, last) & tail) != 0) return true;
    for (size_t w = first + 1; w < last; ++w) {
      if (Word(pages, w) != 0) return true;
    }
    return false;
  }

 private:
  // Bits in pages of 4096 positions, allocated on first claim: the stronger
  // levels (URLs, paths, e-mail) are sparse in any text, and prose leaves every
  // level nearly empty.
  static constexpr size_t kPageWords = 64;
  static constexpr size_t kPageBits = kPageWords * 64;
  using Page = std::unique_ptr<uint64_t[]>;
  using Pages = std::vector<Page>;

  static uint64_t Word(const Pages& pages, size_t w) {
    const Page& page = pages[w / kPageWords];
    return page ? page[w % kPageWords] : 0;
  }
  uint64_t& MutableWord(Pages& pages, size_t w) {
    Page& page = pages[w / kPageWords];
    if (!page) {
      if (spare_.empty()) {
        page = std::make_unique<uint64_t[]>(kPageWords);  // zeroed
      } else {
        page = std::move(spare_.back());
        spare_.pop_back();
        std::memset(page.get(), 0, kPageWords * sizeof(uint64_t));
      }
    }
    return page[w % kPageWords];
  }
  void SetRange(Pages& pages, size_t start, size_t end) {
    size_t first = start / 64;
    size_t last = (end - 1) / 64;
    uint64_t head = ~uint64_t{0} << (start % 64);
    uint64_t tail = ~uint64_t{0} >> (63 - (end - 1) % 64);
    if (first == last) {
      MutableWord(pages, first) |= head & tail;
      return;
    }
    MutableWord(pages, first) |= head;
    for (size_t w = first + 1; w < last; ++w) MutableWord(pages, w) = ~uint64_t{0};
    MutableWord(pages, last) |= tail;
  }

  size_t size_ = 0;
  Pages pages_[kClaimLevels];
  Pages spare_;  // zeroed on reuse
};

// Lower-cases ASCII into `out` (reused between calls, so no allocation once it
// has grown).
std::string_view LowerInto(std::string_view s, std::string& out) {
  out.assign(s);
  for (char& c : out) c = internal::ToLower(c);
  return out;
}

// One Extract() call's growing buffers, pooled in the Impl between calls (their capacity is
// what is reused: a borrowed workspace is empty).
struct Workspace {
  std::string normalized;             // the refanged text, when the text was defanged
  std::vector<Edit> edits;            // the refang edits, in text order
  std::vector<uint64_t> edit_blocks;  // a bit per 64 bytes of normalized text holding an edit
  std::vector<RefangMatch> refang_matches;
  std::vector<Event> events;
  std::vector<std::vector<Pos>> by_anchor = std::vector<std::vector<Pos>>(kAnchorCount);
  std::vector<HexRun> hex_runs;
  ClaimSet claims;
  std::vector<Entry> entries;
  std::vector<uint32_t> table;
  std::string values;
  std::vector<uint32_t> order;

  void Clear() {
    normalized.clear();
    edits.clear();
    edit_blocks.clear();
    refang_matches.clear();
    events.clear();
    for (auto& v : by_anchor) v.clear();
    hex_runs.clear();
    entries.clear();
    table.clear();
    values.clear();
    order.clear();
  }

  size_t RetainedBytes() const {
    size_t bytes = normalized.capacity() + edits.capacity() * sizeof(Edit) +
                   edit_blocks.capacity() * sizeof(uint64_t) +
                   refang_matches.capacity() * sizeof(RefangMatch) +
                   events.capacity() * sizeof(Event) + hex_runs.capacity() * sizeof(HexRun) +
                   claims.RetainedBytes() + entries.capacity() * sizeof(Entry) +
                   table.capacity() * sizeof(uint32_t) + values.capacity() +
                   order.capacity() * sizeof(uint32_t);
    for (const auto& v : by_anchor) bytes += v.capacity() * sizeof(Pos);
    return bytes;
  }
};

}  // namespace

std::unique_ptr<Workspace> Extractor::Impl::BorrowWorkspace() const {
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (!workspaces.empty()) {
      std::unique_ptr<Workspace> ws = std::move(workspaces.back());
      workspaces.pop_back();
      pooled_bytes -= ws->RetainedBytes();
      return ws;
    }
  }
  return std::make_unique<Workspace>();
}

void Extractor::Impl::ReturnWorkspace(std::unique_ptr<Workspace> ws) const {
  ws->Clear();
  size_t bytes = ws->RetainedBytes();
  std::lock_guard<std::mutex> lock(pool_mu);
  if (pooled_bytes + bytes <= kMaxPooledBytes && workspaces.size() < 16) {
    pooled_bytes += bytes;
    workspaces.push_back(std::move(ws));
  }
  // Otherwise `ws` is freed here, outside the budget.
}

namespace {

class Run {
 public:
  Run(const Extractor::Impl& impl, std::string_view orig)
      : impl_(impl),
        orig_(orig),
        ws_(impl.BorrowWorkspace()),
        normalized_(ws_->normalized),
        edits_(ws_->edits),
        edit_blocks_(ws_->edit_blocks),
        claims_(ws_->claims),
        entries_(ws_->entries),
        table_(ws_->table),
        values_(ws_->values) {}
  ~Run() { impl_.ReturnWorkspace(std::move(ws_)); }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  std::vector<ExtractedIndicator> Go();

 private:
  // Text access on the normalized text, with '\0' outside it.
  char At(size_t i) const { return i < t_.size() ? t_[i] : '\0'; }
  char Before(size_t i) const { return i > 0 && i <= t_.size() ? t_[i - 1] : '\0'; }

  bool Refang(hs_scratch_t* scratch);
  void FindLongWords(std::vector<HexRun>* hex, std::vector<Pos>* btc) const;
  void FindDots(std::vector<Pos>* domain, std::vector<Pos>* ipv4, std::vector<Pos>* file) const;
  size_t ToOrig(size_t norm) const;
  // Whether an edit may start in [start, end) of the normalized text: false is exact, true is
  // checked against edits_ (one bit per 64 bytes spares most tokens that binary search).
  bool MayHoldEdit(size_t start, size_t end) const {
    end = std::min(end, t_.size());
    if (start >= end) return false;
    for (size_t b = start / 64; b <= (end - 1) / 64; ++b) {
      if (((edit_blocks_[b / 64] >> (b % 64)) & 1) != 0) return true;
    }
    return false;
  }
  bool Defanged(size_t start, size_t end) const;
  bool HasEdit(size_t start, size_t end, RefangKind kind) const;

  bool Claimed(size_t start, size_t end, ClaimLevel level) const {
    return claims_.Claimed(start, end, level);
  }
  void Claim(size_t start, size_t end, ClaimLevel level) { claims_.Claim(start, end, level); }

  // Parses `raw` with core's parser for `type` (for the types whose
  // normalization is more than lower-casing) and records the occurrence.
  void Add(IndicatorType type, std::string_view raw, size_t start, size_t end, Reason reason);
  // Records an occurrence of a value the scanner has already validated and
  // normalized (hashes, IPv4, host names): core's parser dominated the cost on
  // indicator-dense reports. `value_hash`, when not 0, is
  // internal::HashBytes(value), already computed by the caller.
  void AddNormalized(IndicatorType type, std::string_view value, size_t start, size_t end,
                     Reason reason, uint64_t value_hash = 0) {
    AddNormalizedLazy(type, value, start, end, value_hash, [&reason] { return reason; });
  }
  // Same, with the reason computed by `reason_fn()` only when it can matter: for a new value, an
  // earlier occurrence, or a value all of whose occurrences so far were flagged. Scanners whose
  // reason depends on the value alone (digests) so skip the warninglist lookup on repeats.
  template <typename ReasonFn>
  void AddNormalizedLazy(IndicatorType type, std::string_view value, size_t start, size_t end,
                         uint64_t value_hash, ReasonFn&& reason_fn);

  // Scanners, one per anchor family; each returns nothing and adds candidates.
  void ScanUrl(size_t anchor_end);
  void ScanPath(size_t start, bool regkey);
  void ScanEmail(size_t anchor_end);
  void ScanFile(size_t anchor_end);
  void ScanHost(size_t anchor_end);
  void ScanIpv6(size_t anchor_end);
  void ScanHex(const HexRun& run);
  void ScanCve(size_t anchor_end);
  void ScanAsn(size_t anchor_end);
  void ScanBtc(size_t anchor_end, bool bech32);
  void ScanSsdeep(size_t anchor_end);

  // Helpers.
  size_t UrlEnd(size_t from, char opener) const;
  bool ValidHost(std::string_view host_lower, size_t start, size_t end,
                 internal::Warninglists::HostFacts* facts) const;
  Reason IpReason(const core::IpNetwork& ip) const;
  Reason HostReason(std::string_view host, const internal::Warninglists::HostFacts& facts, bool url,
                    bool trivial_path) const;
  bool VersionContext(size_t start) const;
  std::string_view HeaderOfLine(size_t pos) const;

  const Extractor::Impl& impl_;
  std::string_view orig_;
  std::unique_ptr<Workspace> ws_;  // borrowed from impl_ for the call; the members below view it
  std::string& normalized_;
  std::string_view t_;
  std::vector<Edit>& edits_;
  std::vector<uint64_t>& edit_blocks_;  // see MayHoldEdit()
  ClaimSet& claims_;
  size_t covered_[kAnchorCount] = {};

  // De-duplication: entries_ in order of insertion, table_ an open-addressing
  // index into it (entry index + 1; 0 is empty) on a 64-bit hash of (type,
  // value), values_ the values.
  std::vector<Entry>& entries_;
  std::vector<uint32_t>& table_;
  std::string& values_;
  // Reused buffers for lower-cased tokens.
  std::string host_buf_;
  std::string hex_buf_;
};

bool Run::Refang(hs_scratch_t* scratch) {
  std::vector<RefangMatch>& matches = ws_->refang_matches;
  if (hs_scan(impl_.refang_db.get(), orig_.data(), static_cast<unsigned>(orig_.size()), 0, scratch,
              CollectRefang, &matches) != HS_SUCCESS) {
    return false;
  }
  if (matches.empty()) {
    t_ = orig_;
    return true;
  }
  std::sort(matches.begin(), matches.end(), [](const RefangMatch& a, const RefangMatch& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  size_t copied = 0;
  for (const RefangMatch& m : matches) {
    if (m.start < copied) continue;  // overlaps an accepted form
    const RefangRule& rule = kRefangRules[m.rule];
    char before = m.start > 0 ? orig_[m.start - 1] : '\0';
    char after = m.end < orig_.size() ? orig_[m.end] : '\0';
    switch (rule.kind) {
      case RefangKind::kScheme: {
        // Only a scheme: followed by "://", "s://" or a defanged separator.
        std::string_view rest = orig_.substr(m.end, 8);
        if (!rest.empty() && (rest[0] == 's' || rest[0] == 'S')) rest.remove_prefix(1);
        bool sep = rest.rfind("://", 0) == 0 || rest.rfind("[:", 0) == 0 ||
                   rest.rfind("[/", 0) == 0 || rest.rfind(":\\\\", 0) == 0;
        if (!sep || IsAlnum(before)) continue;
        break;
      }
      case RefangKind::kSpacedDot:
      case RefangKind::kAt:
        // " dot " and "(at)" are words in prose; only between two name
        // characters.
        if (!IsLabelChar(before) || !IsAlnum(after)) continue;
        break;
      case RefangKind::kDot:
        if (rule.from == "\\." && (!IsLabelChar(before) || !IsAlnum(after))) continue;
        break;
      default:
        break;
    }
    // Most matches in prose ("\." in code, "(at)" between words) are rejected
    // above: the copy is made only once a defanged form is accepted, and text
    // without one is scanned in place.
    if (copied == 0 && normalized_.empty()) normalized_.reserve(orig_.size());
    normalized_.append(orig_.substr(copied, m.start - copied));
    edits_.push_back({normalized_.size(), m.start, static_cast<uint32_t>(m.end - m.start),
                      static_cast<uint32_t>(rule.to.size()), rule.kind});
    normalized_.append(rule.to);
    copied = m.end;
  }
  if (edits_.empty()) {
    t_ = orig_;
    return true;
  }
  normalized_.append(orig_.substr(copied));
  t_ = normalized_;
  edit_blocks_.assign(t_.size() / 64 / 64 + 1, 0);
  for (const Edit& e : edits_) {
    edit_blocks_[e.norm_pos / 64 / 64] |= uint64_t{1} << (e.norm_pos / 64 % 64);
  }
  return true;
}

// Hex runs of 32+ digits and base58 words of 26+ characters (the anchors of
// ScanHex and ScanBtc). Both lie inside an alphanumeric word of 26 bytes or
// more, and any such word holds one of the bytes at 26-byte steps from the end
// of the previous word: so only those bytes are looked at, and prose costs
// about one test per 26 bytes.
void Run::FindLongWords(std::vector<HexRun>* hex, std::vector<Pos>* btc) const {
  constexpr size_t kMinWord = 26;
  const size_t n = t_.size();
  const char* t = t_.data();
  size_t p = kMinWord - 1;
  while (p < n) {
    if (!IsAlnum(t[p])) {
      p += kMinWord;
      continue;
    }
    // The word's bounds, and the classes all its bytes share (a digest is hex
    // throughout).
    constexpr uint8_t kAlnum = internal::kDigitClass | internal::kAlphaClass;
    uint8_t common = internal::ClassOf(t[p]);
    uint8_t any = common;
    size_t s = p;
    while (s > 0) {
      uint8_t c = internal::ClassOf(t[s - 1]);
      if ((c & kAlnum) == 0) break;
      common &= c;
      any |= c;
      --s;
    }
    size_t f = p + 1;
    while (f < n) {
      uint8_t c = internal::ClassOf(t[f]);
      if ((c & kAlnum) == 0) break;
      common &= c;
      any |= c;
      ++f;
    }
    if (f - s >= kMinWord) {
      // Hyperscan's "\b[13][1-9A-HJ-NP-Za-km-z]{25}": a base58 start after a
      // non-word byte.
      if ((t[s] == '1' || t[s] == '3') && (s == 0 || t[s - 1] != '_')) {
        bool base58 = true;
        for (size_t i = s + 1; i < s + kMinWord; ++i) {
          char c = t[i];
          if (c == '0' || c == 'O' || c == 'I' || c == 'l') {
            base58 = false;
            break;
          }
        }
        if (base58) btc->push_back(static_cast<Pos>(f));
      }
      // "[0-9A-Fa-f]{32}": each maximal hex run of 32 or more, with its bounds and
      // shape. The word's bounds are the run's when the whole word is hex.
      if ((common & internal::kHexClass) != 0) {
        if (f - s >= 32) {
          hex->push_back({static_cast<Pos>(s), static_cast<Pos>(f), /*glued=*/false,
                          (any & internal::kUpperClass) != 0,
                          (common & internal::kDigitClass) != 0});
        }
      } else {
        for (size_t i = s; i < f;) {
          if (!IsHex(t[i])) {
            ++i;
            continue;
          }
          uint8_t run_common = internal::ClassOf(t[i]);
          uint8_t run_any = run_common;
          size_t r = i + 1;
          for (; r < f; ++r) {
            uint8_t c = internal::ClassOf(t[r]);
            if ((c & internal::kHexClass) == 0) break;
            run_common &= c;
            run_any |= c;
          }
          if (r - i >= 32) {
            // Inside the word, a neighbour of the run is a non-hex letter.
            hex->push_back({static_cast<Pos>(i), static_cast<Pos>(r), i > s || r < f,
                            (run_any & internal::kUpperClass) != 0,
                            (run_common & internal::kDigitClass) != 0});
          }
          i = r;
        }
      }
    }
    p = f + kMinWord;
  }
}

// The anchors that start at a dot, as the Hyperscan patterns they replace would
// report them (one match per dot at most, so no run of consecutive ends to
// collapse):
//   kAnchorDomain  [A-Za-z0-9_-]\.[A-Za-z]{2}
//   kAnchorIpv4    \d\.\d{1,3}\.\d{1,3}\.\d
//   kAnchorFile    [A-Za-z0-9_\-)\]]\.(?:<kFileExtensions>)\b, case-insensitive
void Run::FindDots(std::vector<Pos>* domain, std::vector<Pos>* ipv4, std::vector<Pos>* file) const {
  const char* t = t_.data();
  const size_t n = t_.size();
  auto digits = [&](size_t p) {
    size_t q = p;
    while (q < n && q - p < 4 && IsDigit(t[q])) ++q;
    return q - p;
  };
  auto word_char = [](char c) { return IsAlnum(c) || c == '_'; };
  for (const char* d = static_cast<const char*>(std::memchr(t, '.', n)); d != nullptr;
       d = static_cast<const char*>(std::memchr(d + 1, '.', n - static_cast<size_t>(d + 1 - t)))) {
    size_t i = static_cast<size_t>(d - t);
    if (i == 0 || i + 1 >= n) continue;
    char b = t[i - 1];
    if (IsLabelChar(b) && i + 2 < n && IsAlpha(t[i + 1]) && IsAlpha(t[i + 2])) {
      domain->push_back(static_cast<Pos>(i + 3));
    }
    if (IsDigit(b)) {
      size_t p = i + 1;
      size_t k = digits(p);
      if (k >= 1 && k <= 3 && p + k < n && t[p + k] == '.') {
        p += k + 1;
        k = digits(p);
        if (k >= 1 && k <= 3 && p + k + 1 < n && t[p + k] == '.' && IsDigit(t[p + k + 1])) {
          ipv4->push_back(static_cast<Pos>(p + k + 2));
        }
      }
    }
    if (IsLabelChar(b) || b == ')' || b == ']') {
      constexpr size_t kMaxExtension = 6;
      size_t p = i + 1;
      while (p < n && p - i <= kMaxExtension + 1 && word_char(t[p])) ++p;
      size_t len = p - i - 1;
      if (len >= 2 && len <= kMaxExtension && (p == n || !word_char(t[p]))) {
        char ext[kMaxExtension];
        for (size_t j = 0; j < len; ++j) ext[j] = internal::ToLower(t[i + 1 + j]);
        if (impl_.file_extensions.Find(std::string_view(ext, len)) != 0) {
          file->push_back(static_cast<Pos>(p));
        }
      }
    }
  }
}

size_t Run::ToOrig(size_t norm) const {
  if (edits_.empty()) return norm;
  auto it = std::upper_bound(edits_.begin(), edits_.end(), norm,
                             [](size_t n, const Edit& e) { return n < e.norm_pos; });
  if (it == edits_.begin()) return norm;
  const Edit& e = *(it - 1);
  if (norm < e.norm_pos + e.new_len) return e.orig_pos;
  return norm - (e.norm_pos + e.new_len) + (e.orig_pos + e.orig_len);
}

bool Run::Defanged(size_t start, size_t end) const {
  if (edits_.empty() || !MayHoldEdit(start, end)) return false;
  auto it = std::lower_bound(edits_.begin(), edits_.end(), start,
                             [](const Edit& e, size_t n) { return e.norm_pos < n; });
  return it != edits_.end() && it->norm_pos < end;
}

bool Run::HasEdit(size_t start, size_t end, RefangKind kind) const {
  if (edits_.empty() || !MayHoldEdit(start, end)) return false;
  auto it = std::lower_bound(edits_.begin(), edits_.end(), start,
                             [](const Edit& e, size_t n) { return e.norm_pos < n; });
  for (; it != edits_.end() && it->norm_pos < end; ++it) {
    if (it->kind == kind) return true;
  }
  return false;
}

void Run::Add(IndicatorType type, std::string_view raw, size_t start, size_t end, Reason reason) {
  if (!impl_.allowed[static_cast<size_t>(type)]) return;
  auto ind = core::ParseIndicator(type, raw);
  if (!ind.ok()) return;
  AddNormalized(ind->type, ind->value, start, end, reason);
}

template <typename ReasonFn>
void Run::AddNormalizedLazy(IndicatorType type, std::string_view value, size_t start, size_t end,
                            uint64_t value_hash, ReasonFn&& reason_fn) {
  if (!impl_.allowed[static_cast<size_t>(type)]) return;
  if (value_hash == 0) value_hash = internal::HashBytes(value);
  uint64_t hash = value_hash ^ (static_cast<uint64_t>(type) + 1) * 0x9E3779B97F4A7C15ULL;
  if ((entries_.size() + 1) * 2 > table_.size()) {
    // Grow the index (at most half full) and re-insert every entry.
    table_.assign(table_.empty() ? 1024 : table_.size() * 2, 0);
    size_t mask = table_.size() - 1;
    for (size_t i = 0; i < entries_.size(); ++i) {
      size_t slot = entries_[i].hash & mask;
      while (table_[slot] != 0) slot = (slot + 1) & mask;
      table_[slot] = static_cast<uint32_t>(i + 1);
    }
  }
  size_t mask = table_.size() - 1;
  size_t slot = hash & mask;
  for (; table_[slot] != 0; slot = (slot + 1) & mask) {
    Entry& e = entries_[table_[slot] - 1];
    if (e.hash != hash || e.type != type || e.value_length != value.size() ||
        std::string_view(values_).substr(e.value_offset, e.value_length) != value) {
      continue;
    }
    // Scanners run one anchor family at a time, so a later call may hold an
    // earlier occurrence: the first in the text gives the position and the
    // reason.
    if (start < e.start) {
      Reason reason = reason_fn();
      e.start = start;
      e.end = end;
      e.reason = reason;
      e.kept = e.kept || reason.empty();
    } else if (!e.kept) {
      e.kept = reason_fn().empty();
    }
    if (!e.defanged) e.defanged = Defanged(start, end);
    return;
  }
  Reason reason = reason_fn();
  bool defanged = Defanged(start, end);
  table_[slot] = static_cast<uint32_t>(entries_.size() + 1);
  entries_.push_back({hash, static_cast<uint32_t>(values_.size()),
                      static_cast<uint32_t>(value.size()), type, defanged, reason.empty(), start,
                      end, reason});
  values_.append(value);
}

// ---- URLs
// -----------------------------------------------------------------------------------

// The end of a URL (or URL path) starting at `from`; `opener` is the character
// before the URL, which decides whether a closing quote, backtick or
// parenthesis ends it.
size_t Run::UrlEnd(size_t from, char opener) const {
  size_t i = from;
  int parens = 0;
  while (i < t_.size()) {
    char c = t_[i];
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) break;
    if (c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '{' || c == '}' ||
        c == '|' || c == '[' || c == ']') {
      break;
    }
    if (c == '`' && opener == '`') break;
    if (c == '\'' && opener == '\'') break;
    if (c == '(') ++parens;
    if (c == ')') {
      if (parens == 0) break;
      --parens;
    }
    ++i;
  }
  // Sentence punctuation and Markdown emphasis after a URL are not part of it.
  while (i > from) {
    char c = t_[i - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '*' ||
        c == '\'' || c == '`' || c == '_') {
      --i;
    } else {
      break;
    }
  }
  return i;
}

// Validates a lower-case host name found in the text: labels, a known TLD, no
// detection-name shapes. `start`/`end` locate it in the normalized text (for
// the spaced-dot rule). On success `facts` holds what the warninglists say
// about it.
bool Run::ValidHost(std::string_view host, size_t start, size_t end,
                    internal::Warninglists::HostFacts* facts) const {
  if (host.size() > 253 || host.find('.') == std::string_view::npos) return false;
  size_t labels = 0;
  size_t pos = 0;
  std::string_view last;
  while (pos <= host.size()) {
    size_t dot = host.find('.', pos);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view label = host.substr(pos, dot - pos);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsLabelChar(c)) return false;
    }
    ++labels;
    last = label;
    pos = dot + 1;
  }
  *facts = impl_.lists.Analyze(host);
  if (!facts->known_tld) return false;
  if (last == "onion") {
    std::string_view name = host.substr(0, host.size() - 6);
    size_t dot = name.rfind('.');
    std::string_view onion = dot == std::string_view::npos ? name : name.substr(dot + 1);
    if (onion.size() != 16 && onion.size() != 56) return false;
  }
  // Registered names never hold '_' (only service labels below them do).
  std::string_view reg = facts->registrable;
  if (reg.substr(0, reg.find('.')).find('_') != std::string_view::npos) return false;
  // " dot " is a word in prose ("the dot com bubble"): trusted only in names
  // with 2+ dots.
  if (labels < 3 && HasEdit(start, end, RefangKind::kSpacedDot)) return false;
  return true;
}

Reason Run::IpReason(const core::IpNetwork& ip) const {
  const ExtractFilters& f = impl_.options.filters;
  if (f.reserved_ip) {
    for (size_t i = 0; i < impl_.reserved.size(); ++i) {
      if (InNetwork(ip, impl_.reserved[i])) return {"reserved-ip", kReservedRanges[i].reason};
    }
  }
  if (f.public_dns && ip.is_address()) {
    for (const core::IpNetwork& dns : impl_.public_dns) {
      if (dns == ip) return {"public-dns", {}};
    }
  }
  bool reserved = false;
  auto m = impl_.lists.IpRange(ip, &reserved);
  if (!m.list.empty()) {
    if (reserved && f.reserved_ip) return {"reserved-ip", m.list};
    if (!reserved && f.provider_ip) return {"provider-ip", m.list};
  }
  return {};
}

Reason Run::HostReason(std::string_view host, const internal::Warninglists::HostFacts& facts,
                       bool url, bool trivial_path) const {
  const ExtractFilters& f = impl_.options.filters;
  if (f.ignored_domain) {
    for (const std::string& d : impl_.ignore_domains) {
      if (host == d || (host.size() > d.size() && host.substr(host.size() - d.size()) == d &&
                        host[host.size() - d.size() - 1] == '.')) {
        return {"ignored-domain", {}};
      }
    }
  }
  if (f.special_domain && !facts.special.list.empty()) {
    return {"special-domain", facts.special.list};
  }
  if (f.vendor_domain && !facts.vendor.list.empty() &&
      (!url || trivial_path || facts.vendor.url_any_path)) {
    return {"vendor-domain", facts.vendor.list};
  }
  if (f.popular_domain && (!url || trivial_path) && !facts.popular.list.empty()) {
    return {"popular-domain", facts.popular.list};
  }
  return {};
}

void Run::ScanUrl(size_t anchor_end) {
  // The anchor ends after "://"; the scheme is the run of letters before it.
  size_t sep = anchor_end - 3;
  size_t start = sep;
  while (start > 0 && IsAlpha(t_[start - 1])) --start;
  if (Claimed(start, anchor_end, kClaimUrl)) return;
  char opener = Before(start);
  size_t end = UrlEnd(anchor_end, opener);
  if (end <= anchor_end) return;
  std::string_view url = t_.substr(start, end - start);
  std::string_view rest = t_.substr(anchor_end, end - anchor_end);
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view path = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  Reason reason;
  bool trivial = path.empty() || path == "/";
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return;
    auto ip = core::ParseIpAddress(authority.substr(1, close - 1));
    if (!ip.ok()) return;
    reason = IpReason(*ip);
  } else {
    std::string_view h = authority.substr(0, authority.rfind(':'));
    if (authority.find(':') == std::string_view::npos) h = authority;
    uint32_t v4;
    if (core::ParseIpv4(h, &v4)) {
      auto ip = core::ParseIpAddress(h);
      if (ip.ok()) reason = IpReason(*ip);
    } else {
      std::string_view host = LowerInto(h, host_buf_);
      internal::Warninglists::HostFacts facts;
      if (!ValidHost(host, start, end, &facts)) return;
      reason = HostReason(host, facts, /*url=*/true, trivial);
    }
  }
  Claim(start, end, kClaimUrl);
  Add(T::kUrl, url, start, end, reason);
}

// ---- Windows paths and registry keys
// -----------------------------------------------------

void Run::ScanPath(size_t start, bool regkey) {
  if (Claimed(start, start + 1, kClaimPath)) return;
  char opener = Before(start);
  // "…“ and ‘…’ (UTF-8 E2 80 9C/9D, 98/99) close as their ASCII cousins do.
  std::string_view close_quote;
  if (opener == '"' || opener == '\'' || opener == '`') {
    close_quote = t_.substr(start - 1, 1);
  } else if (start >= 3 && t_.substr(start - 3, 3) == "\xE2\x80\x9C") {
    close_quote = "\xE2\x80\x9D";
  }
  size_t line_end = t_.find('\n', start);
  if (line_end == std::string_view::npos) line_end = t_.size();
  size_t end = std::string_view::npos;
  if (!close_quote.empty()) {
    size_t close = t_.find(close_quote, start);
    if (close != std::string_view::npos && close < line_end && close - start <= 400 &&
        t_.substr(start, close - start).find('\t') == std::string_view::npos) {
      end = close;
    }
  }
  if (end == std::string_view::npos) {
    // Unquoted: path characters, bracketed placeholders ("[user name]",
    // "<user>"), and single spaces when the next word goes on with a backslash
    // ("Windows x64\Print Processors\x").
    auto invalid = [regkey](char c) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 || c == ' ' || c == '"' || c == '`' || c == '|' || c == '\t') return true;
      if (regkey) return false;
      return c == '*' || c == '?' || c == '<' || c == '>';
    };
    size_t i = start;
    while (i < line_end) {
      char c = t_[i];
      if (c == '[' || c == '<' || c == '{') {
        char want = c == '[' ? ']' : c == '<' ? '>' : '}';
        size_t close = t_.find(want, i + 1);
        if (close != std::string_view::npos && close < line_end && close - i <= 64) {
          i = close + 1;
          continue;
        }
      }
      if (c == ' ' && i + 1 < line_end && t_[i + 1] != ' ' && i > start && t_[i - 1] != ',' &&
          t_[i - 1] != ';') {
        // The next word must go on with a backslash and not start a path of its
        // own.
        size_t w = i + 1;
        std::string_view next = t_.substr(w, 4);
        if ((next.size() >= 3 && IsAlpha(next[0]) && next[1] == ':' && next[2] == '\\') ||
            next.rfind('%', 0) == 0 || StartsWithNoCase(next, "HK")) {
          break;
        }
        while (w < line_end && !IsSpace(t_[w]) && t_[w] != '\\' && !invalid(t_[w])) ++w;
        if (w < line_end && t_[w] == '\\') {
          i = w;
          continue;
        }
        break;
      }
      if (invalid(c)) break;
      ++i;
    }
    end = i;
    while (end > start) {
      char c = t_[end - 1];
      if (c == '.' || c == ',' || c == ';' || c == ':' || c == ')' || c == '\'' || c == '=' ||
          c == '!' || c == '?') {
        --end;
      } else {
        break;
      }
    }
  }
  std::string_view path = t_.substr(start, end - start);
  size_t first_sep = path.find('\\');
  // Something after the prefix ("C:\" alone is no indicator).
  if (first_sep == std::string_view::npos ||
      path.find_first_not_of('\\', first_sep) == std::string_view::npos) {
    return;
  }
  Claim(start, end, kClaimPath);
  if (regkey) {
    Add(T::kRegkey, path, start, end, {});
    return;
  }
  Reason reason;
  if (impl_.options.filters.system_file) {
    std::string_view lower = LowerInto(path, host_buf_);
    size_t slash = lower.rfind('\\');
    std::string_view dir = lower.substr(0, slash + 1);
    std::string_view base = lower.substr(slash + 1);
    if (impl_.well_known_files.count(base) != 0) {
      for (std::string_view d : kSystemDirs) {
        if (dir == d) reason = {"well-known-file", {}};
      }
    }
  }
  Add(T::kFilename, path, start, end, reason);
}

// ---- e-mail
// -----------------------------------------------------------------------------------

std::string_view Run::HeaderOfLine(size_t pos) const {
  size_t line = t_.rfind('\n', pos == 0 ? 0 : pos - 1);
  line = line == std::string_view::npos ? 0 : line + 1;
  // Folded header lines start with white space: the header is on an earlier
  // line.
  for (int hops = 0; hops < 20 && line > 0 && (At(line) == ' ' || At(line) == '\t'); ++hops) {
    size_t prev = t_.rfind('\n', line - 2);
    line = prev == std::string_view::npos ? 0 : prev + 1;
  }
  size_t colon = t_.find(':', line);
  if (colon == std::string_view::npos || colon - line > 40) return {};
  std::string_view name = t_.substr(line, colon - line);
  for (char c : name) {
    if (!IsAlnum(c) && c != '-') return {};
  }
  return name;
}

void Run::ScanEmail(size_t anchor_end) {
  size_t at = anchor_end - 2;
  size_t ls = at;
  while (ls > 0) {
    char c = t_[ls - 1];
    if (IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-') {
      --ls;
    } else {
      break;
    }
  }
  while (ls < at && (t_[ls] == '.' || t_[ls] == '-')) ++ls;
  size_t de = at + 1;
  while (de < t_.size() && (IsLabelChar(t_[de]) || t_[de] == '.')) ++de;
  while (de > at + 1 && (t_[de - 1] == '.' || t_[de - 1] == '-')) --de;
  if (ls >= at || de <= at + 1 || at - ls > 64) return;
  char before = Before(ls);
  if (before == '*' || before == '=' || before == '/' || before == '\\') return;  // redacted
  std::string_view local = t_.substr(ls, at - ls);
  if (local.find("..") != std::string_view::npos || local.back() == '.') return;
  std::string_view domain = LowerInto(t_.substr(at + 1, de - at - 1), host_buf_);
  internal::Warninglists::HostFacts facts;
  if (!ValidHost(domain, at + 1, de, &facts)) return;
  if (Claimed(ls, de, kClaimEmail)) return;
  Claim(ls, de, kClaimEmail);
  Reason reason;
  const ExtractFilters& f = impl_.options.filters;
  if (f.message_id && before == '<') {
    std::string_view header = HeaderOfLine(at);
    for (std::string_view h : kMessageIdHeaders) {
      if (EqualsNoCase(header, h)) reason = {"message-id", {}};
    }
  }
  if (reason.empty()) {
    // Attackers use free mail: popular domains do not make an address benign;
    // the publisher's own, security vendors' and reserved names do.
    Reason r = HostReason(domain, facts, /*url=*/false, false);
    if (r.filter != "popular-domain" &&
        (r.filter != "vendor-domain" || r.list == "security-provider-blogpost")) {
      reason = r;
    }
  }
  Add(T::kEmailSrc, t_.substr(ls, de - ls), ls, de, reason);
}

// ---- file names
// -----------------------------------------------------------------------------

void Run::ScanFile(size_t anchor_end) {
  size_t dot = t_.rfind('.', anchor_end - 1);
  if (dot == std::string_view::npos) return;
  // A longer name ("a.exe.config", "evil.exe.example") is something else.
  if (At(anchor_end) == '.' && IsAlnum(At(anchor_end + 1))) return;
  if (At(anchor_end) == '(' || At(anchor_end) == '@') return;
  size_t s = dot;
  while (s > 0) {
    char c = t_[s - 1];
    if (IsAlnum(c) || c == '_' || c == '-' || c == '.' || c == '$' || c == '~' || c == '+' ||
        c == '!' || c == '#' || c == '(' || c == ')' || c == '[' || c == ']') {
      --s;
    } else {
      break;
    }
  }
  // Leading punctuation wraps the name rather than belonging to it.
  while (s < dot && !IsAlnum(t_[s]) && t_[s] != '_' && t_[s] != '$' && t_[s] != '~') ++s;
  if (s >= dot) return;
  char before = Before(s);
  if (before == '\\' || before == '/' || before == '%' || before == ':' || before == '@' ||
      before == '.' || before == '=') {
    return;  // part of a path, URL, format string or longer name
  }
  if (Claimed(s, anchor_end, kClaimAny)) return;
  std::string_view name = t_.substr(s, anchor_end - s);
  if (std::count(name.begin(), name.end(), '(') != std::count(name.begin(), name.end(), ')')) {
    return;
  }
  Claim(s, anchor_end, kClaimAny);
  Reason reason;
  if (impl_.options.filters.system_file &&
      impl_.well_known_files.count(LowerInto(name, host_buf_)) != 0) {
    reason = {"well-known-file", {}};
  }
  Add(T::kFilename, name, s, anchor_end, reason);
}

// ---- hosts: IPv4 addresses, domains, scheme-less URLs
// ----------------------------------------

bool Run::VersionContext(size_t start) const {
  size_t i = start;
  while (i > 0 && (t_[i - 1] == ' ' || t_[i - 1] == ':' || t_[i - 1] == '=' || t_[i - 1] == '#' ||
                   t_[i - 1] == '(')) {
    --i;
  }
  size_t w = i;
  while (w > 0 && (IsAlpha(t_[w - 1]) || static_cast<unsigned char>(t_[w - 1]) >= 0x80)) --w;
  if (w == i || i - w > 20) return false;
  std::string_view word = t_.substr(w, i - w);
  for (std::string_view v : kVersionWords) {
    if (EqualsNoCase(word, v)) return true;
  }
  return false;
}

void Run::ScanHost(size_t anchor_end) {
  size_t s = anchor_end;
  while (s > 0 && (IsLabelChar(t_[s - 1]) || t_[s - 1] == '.')) --s;
  size_t f = anchor_end;
  while (f < t_.size() && (IsLabelChar(t_[f]) || t_[f] == '.')) ++f;
  covered_[kAnchorDomain] = covered_[kAnchorIpv4] = f;
  while (s < f && (t_[s] == '.' || t_[s] == '-' || t_[s] == '_')) ++s;
  while (f > s && (t_[f - 1] == '.' || t_[f - 1] == '-' || t_[f - 1] == '_')) --f;
  if (f <= s) return;
  char before = Before(s);
  char after = At(f);
  if (before == '@' || after == '@' || after == '(') return;  // e-mail parts, code
  if (before == '/' || before == '\\') return;                // a path segment or a detection name
  if (Claimed(s, f, kClaimAny)) return;
  std::string_view token = t_.substr(s, f - s);

  // The labels: their count, how many are short numbers, the first and the
  // last.
  auto numeric = [](std::string_view l) {
    return !l.empty() && l.size() <= 3 && std::all_of(l.begin(), l.end(), IsDigit);
  };
  size_t label_count = 0;
  size_t numeric_labels = 0;
  std::string_view first_label;
  std::string_view tld;
  for (size_t p = 0; p <= token.size();) {
    size_t d = token.find('.', p);
    if (d == std::string_view::npos) d = token.size();
    std::string_view l = token.substr(p, d - p);
    if (l.empty()) return;
    if (label_count == 0) first_label = l;
    tld = l;
    ++label_count;
    if (numeric(l)) ++numeric_labels;
    p = d + 1;
  }
  bool all_numeric = numeric_labels == label_count;
  // "v10.0.1.2": a version written like an address.
  bool v_prefixed = label_count == 4 && first_label.size() >= 2 &&
                    (first_label[0] == 'v' || first_label[0] == 'V') &&
                    numeric(first_label.substr(1)) && numeric_labels == 3;
  if (all_numeric || v_prefixed) {
    if (label_count != 4) return;  // versions, OIDs, dates
    std::string_view ip_text = v_prefixed ? token.substr(1) : token;
    uint32_t v4;
    if (!core::ParseIpv4(ip_text, &v4)) return;
    size_t end = f;
    std::string_view value = ip_text;  // a CIDR or ip|port built in hex_buf_
    IndicatorType type = T::kIpDst;
    bool cidr = false;
    if (after == '/' && IsDigit(At(f + 1))) {
      size_t p = f + 1;
      while (p < t_.size() && IsDigit(t_[p]) && p - f <= 3) ++p;
      if (!IsAlnum(At(p)) && !(At(p) == '.' && IsDigit(At(p + 1)))) {
        value = t_.substr(s, p - s);
        cidr = true;
        end = p;
      }
    } else if (after == ':' && IsDigit(At(f + 1))) {
      size_t p = f + 1;
      while (p < t_.size() && IsDigit(t_[p]) && p - f <= 6) ++p;
      if (!IsAlnum(At(p)) && At(p) != ':' && !(At(p) == '.' && IsDigit(At(p + 1)))) {
        hex_buf_.assign(ip_text);
        hex_buf_ += '|';
        hex_buf_.append(t_.substr(f + 1, p - f - 1));
        value = hex_buf_;
        type = T::kIpDstPort;
        end = p;
      }
    } else if (after == '/' && At(f + 1) != '/' && !IsSpace(At(f + 1)) && At(f + 1) != '\0') {
      size_t url_end = UrlEnd(f, before);
      if (url_end > f + 1) {
        Claim(s, url_end, kClaimAny);
        auto ip = core::ParseIpAddress(ip_text);
        Add(T::kUrl, t_.substr(s, url_end - s), s, url_end, ip.ok() ? IpReason(*ip) : Reason{});
        return;
      }
    }
    Reason reason;
    if (impl_.options.filters.version_number && (v_prefixed || VersionContext(s))) {
      reason = {"version-number", {}};
    } else if (v_prefixed) {
      return;
    } else {
      auto net = core::ParseIpNetwork(value.substr(0, value.find('|')));
      if (net.ok()) reason = IpReason(*net);
    }
    Claim(s, end, kClaimAny);
    if (type == T::kIpDst && !cidr) {
      AddNormalized(type, value, s, end, reason);
    } else {
      Add(type, value, s, end, reason);
    }
    return;
  }

  std::string_view host = LowerInto(token, host_buf_);
  internal::Warninglists::HostFacts facts;
  if (!ValidHost(host, s, f, &facts)) return;
  bool defanged = Defanged(s, f);
  // "Winnti.BE", "Agent.CJ": detection and class names written with a
  // capitalized suffix.
  if (!defanged && tld.size() >= 2 &&
      std::all_of(tld.begin(), tld.end(), [](char c) { return c >= 'A' && c <= 'Z'; }) &&
      std::any_of(token.begin(), token.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    return;
  }
  // Scheme-less URL: "evil.example/path", "evil.example:8080/path".
  size_t path_at = f;
  if (after == ':' && IsDigit(At(f + 1))) {
    path_at = f + 1;
    while (IsDigit(At(path_at))) ++path_at;
  }
  if (At(path_at) == '/' && At(path_at + 1) != '/' && !IsSpace(At(path_at + 1)) &&
      At(path_at + 1) != '\0') {
    size_t url_end = UrlEnd(path_at, before);
    if (url_end > path_at + 1) {
      Claim(s, url_end, kClaimAny);
      Add(T::kUrl, t_.substr(s, url_end - s), s, url_end,
          HostReason(host, facts, /*url=*/true, /*trivial_path=*/false));
      return;
    }
  }
  Reason reason = HostReason(host, facts, /*url=*/false, false);
  if (reason.empty() && impl_.options.filters.filename_like_domain && !defanged &&
      label_count == 2) {
    std::string_view last = host.substr(host.size() - tld.size());
    for (std::string_view ext : kFileLikeTlds) {
      if (last == ext) reason = {"filename-like-domain", {}};
    }
  }
  Claim(s, f, kClaimAny);
  IndicatorType type = facts.registrable.size() == host.size() ? T::kDomain : T::kHostname;
  AddNormalized(type, host, s, f, reason, facts.host_hash);
}

// ---- IPv6
// -----------------------------------------------------------------------------------

void Run::ScanIpv6(size_t anchor_end) {
  if (anchor_end <= covered_[kAnchorIpv6]) return;
  auto v6char = [](char c) { return IsHex(c) || c == ':' || c == '.'; };
  size_t s = anchor_end;
  while (s > 0 && v6char(t_[s - 1])) --s;
  size_t f = anchor_end;
  while (f < t_.size() && v6char(t_[f])) ++f;
  covered_[kAnchorIpv6] = f;
  while (f > s && (t_[f - 1] == '.' || (t_[f - 1] == ':' && Before(f - 1) != ':'))) --f;
  while (s < f && t_[s] == '.') ++s;
  if (f <= s) return;
  char before = Before(s);
  char after = At(f);
  if (IsAlnum(before) || before == '_' || IsAlnum(after) || after == '_') return;
  std::string_view text = t_.substr(s, f - s);
  size_t colons = static_cast<size_t>(std::count(text.begin(), text.end(), ':'));
  if (colons < 2 || (colons < 7 && text.find("::") == std::string_view::npos)) return;
  size_t groups = 0;
  for (size_t p = 0; p < text.size();) {
    size_t c = text.find(':', p);
    if (c == std::string_view::npos) c = text.size();
    if (c > p) ++groups;
    p = c + 1;
  }
  // "a::b" and "ab::cd" are scopes and labels more often than addresses.
  size_t hex_digits = static_cast<size_t>(std::count_if(text.begin(), text.end(), IsHex));
  if (groups < 2 || hex_digits < 4) return;
  auto ip = core::ParseIpAddress(text);
  if (!ip.ok() || !ip->v6) return;
  if (Claimed(s, f, kClaimAny)) return;
  size_t end = f;
  std::string value(text);
  IndicatorType type = T::kIpDst;
  if (after == '/' && IsDigit(At(f + 1))) {
    size_t p = f + 1;
    while (IsDigit(At(p)) && p - f <= 4) ++p;
    if (!IsAlnum(At(p))) {
      value = std::string(t_.substr(s, p - s));
      end = p;
    }
  } else if (before == '[' && after == ']' && At(f + 1) == ':' && IsDigit(At(f + 2))) {
    size_t p = f + 2;
    while (IsDigit(At(p)) && p - f <= 7) ++p;
    if (!IsAlnum(At(p))) {
      value = "[" + std::string(text) + "]:" + std::string(t_.substr(f + 2, p - f - 2));
      type = T::kIpDstPort;
      end = p;
    }
  }
  auto net = core::ParseIpNetwork(type == T::kIpDstPort ? text : std::string_view(value));
  if (!net.ok()) return;
  Claim(s, end, kClaimAny);
  Add(type, value, s, end, IpReason(*net));
}

// ---- hashes and other tokens
// ------------------------------------------------------------------

void Run::ScanHex(const HexRun& hex) {
  // FindLongWords() reports maximal runs in text order, so they never overlap.
  size_t s = hex.start;
  size_t f = hex.end;
  if (Claimed(s, f, kClaimUrl)) return;
  std::string_view run = t_.substr(s, f - s);
  if (hex.all_digits) return;
  bool glued = hex.glued;
  auto type_for = [](size_t n) -> std::optional<IndicatorType> {
    switch (n) {
      case 32:
        return T::kMd5;
      case 40:
        return T::kSha1;
      case 64:
        return T::kSha256;
      case 128:
        return T::kSha512;
      default:
        return std::nullopt;
    }
  };
  auto type = type_for(run.size());
  if (type && !glued) {
    // Digests are mostly written in lower case already: then the text is the
    // value.
    std::string_view value = hex.upper ? LowerInto(run, hex_buf_) : run;
    uint64_t value_hash = internal::HashBytes(value);
    Claim(s, f, kClaimAny);
    // The reason depends on the value alone: looked up once per distinct digest.
    AddNormalizedLazy(*type, value, s, f, value_hash, [&]() -> Reason {
      if (impl_.options.filters.benign_hash) {
        auto m = impl_.lists.BenignHash(value, value_hash);
        if (!m.list.empty()) return {"benign-hash", m.list};
      }
      return {};
    });
    return;
  }
  // Part of a longer hex string (or glued to letters): not a hash on its own.
  if (!impl_.options.keep_benign && impl_.options.filters.embedded_hex) return;
  for (size_t n : {128, 64, 40, 32}) {
    if (run.size() >= n) {
      Add(*type_for(n), run.substr(0, n), s, s + n,
          impl_.options.filters.embedded_hex ? Reason{"embedded-hex", {}} : Reason{});
      return;
    }
  }
}

void Run::ScanCve(size_t anchor_end) {
  size_t s = anchor_end - 13;
  size_t f = anchor_end;
  while (f < t_.size() && IsDigit(t_[f]) && f - s < 17) ++f;
  if (IsAlnum(At(f))) return;
  if (Claimed(s, f, kClaimPath)) return;
  Add(T::kVulnerability, t_.substr(s, f - s), s, f, {});
}

void Run::ScanAsn(size_t anchor_end) {
  size_t s = anchor_end - 1;
  while (s > 0 && t_[s - 1] != 'A') --s;
  if (s == 0) return;
  --s;
  size_t f = anchor_end;
  while (f < t_.size() && IsDigit(t_[f]) && f - s < 16) ++f;
  if (IsAlnum(At(f)) || At(f) == '/' || (At(f) == '.' && IsDigit(At(f + 1)))) return;
  if (Claimed(s, f, kClaimAny)) return;
  std::string digits;
  for (size_t i = s; i < f; ++i) {
    if (IsDigit(t_[i])) digits += t_[i];
  }
  if (digits.size() > 10) return;
  uint64_t n = std::stoull(digits);
  Reason reason;
  if (impl_.options.filters.reserved_asn && (n == 0 || n == 23456 || (n >= 64496 && n <= 65551) ||
                                             (n >= 4200000000ULL && n <= 4294967295ULL))) {
    reason = {"reserved-asn", {}};
  }
  Add(T::kAs, "AS" + digits, s, f, reason);
}

void Run::ScanBtc(size_t anchor_end, bool bech32) {
  size_t anchor = bech32 ? kAnchorBech32 : kAnchorBtc58;
  if (anchor_end <= covered_[anchor]) return;
  // Consecutive anchor ends collapse into one event, so find the word's own
  // bounds.
  size_t s = anchor_end;
  while (s > 0 && IsAlnum(t_[s - 1])) --s;
  size_t f = anchor_end;
  while (f < t_.size() && IsAlnum(t_[f])) ++f;
  covered_[anchor] = f;
  if (bech32 ? !StartsWithNoCase(t_.substr(s), "bc1") : (t_[s] != '1' && t_[s] != '3')) return;
  std::string_view v = t_.substr(s, f - s);
  bool ok = bech32 ? internal::IsBech32Address(v) : internal::IsBase58CheckAddress(v);
  if (!ok || Claimed(s, f, kClaimAny)) return;
  Claim(s, f, kClaimAny);
  Add(T::kBtc, v, s, f, {});
}

void Run::ScanSsdeep(size_t anchor_end) {
  size_t colon = anchor_end - 4;
  size_t s = colon;
  while (s > 0 && IsDigit(t_[s - 1])) --s;
  // The anchor's "\b\d{1,10}:": a block size of at most 10 digits after a
  // non-word byte.
  if (colon - s > 10 || Before(s) == '_') return;
  if (Before(s) == ':' || IsAlnum(Before(s))) return;
  auto b64 = [](char c) { return IsAlnum(c) || c == '/' || c == '+'; };
  size_t p = colon + 1;
  while (p < t_.size() && b64(t_[p])) ++p;
  if (At(p) != ':') return;
  size_t q = p + 1;
  while (q < t_.size() && b64(t_[q])) ++q;
  if (q == p + 1 || IsAlnum(At(q)) || At(q) == ':') return;
  uint64_t block = std::stoull(std::string(t_.substr(s, colon - s)));
  // Block sizes are 3 * 2^n; the hash parts at most 64 characters.
  if (block < 3 || block % 3 != 0 || ((block / 3) & (block / 3 - 1)) != 0) return;
  if (p - colon - 1 > 64 || q - p - 1 > 64) return;
  if (Claimed(s, q, kClaimAny)) return;
  Reason reason;
  std::string_view v = t_.substr(s, q - s);
  if (impl_.options.filters.benign_hash) {
    auto m = impl_.lists.BenignHash(v);
    if (!m.list.empty()) reason = {"benign-hash", m.list};
  }
  Claim(s, q, kClaimAny);
  Add(T::kSsdeep, v, s, q, reason);
}

// ---- driver
// -------------------------------------------------------------------------------------

std::vector<ExtractedIndicator> Run::Go() {
  std::vector<ExtractedIndicator> out;
  if (orig_.empty() || orig_.size() > 0xFFFFFFFFu) return out;
  HsScratch scratch = impl_.Borrow();
  if (!scratch) return out;
  if (!Refang(scratch.get())) {
    impl_.Return(std::move(scratch));
    return out;
  }
  EventSink sink{ws_->events, {}};
  std::fill(std::begin(sink.last), std::end(sink.last), SIZE_MAX);
  sink.events.reserve(t_.size() / 128 + 16);
  hs_error_t rc = hs_scan(impl_.anchor_db.get(), t_.data(), static_cast<unsigned>(t_.size()), 0,
                          scratch.get(), CollectEvent, &sink);
  std::vector<Event>& events = sink.events;
  impl_.Return(std::move(scratch));
  if (rc != HS_SUCCESS) return out;
  claims_.Reset(t_.size());

  // Claims make the order matter: the most specific shapes first (URLs contain
  // hosts, paths contain file names, e-mail addresses contain domains).
  std::vector<std::vector<Pos>>& by_anchor = ws_->by_anchor;
  {
    size_t counts[kAnchorCount] = {};
    for (const Event& e : events) ++counts[e.anchor];
    for (size_t a = 0; a < kAnchorCount; ++a) by_anchor[a].reserve(counts[a]);
  }
  for (const Event& e : events) by_anchor[e.anchor].push_back(e.end);
  events.clear();
  std::vector<HexRun>& hex_runs = ws_->hex_runs;
  FindLongWords(&hex_runs, &by_anchor[kAnchorBtc58]);
  FindDots(&by_anchor[kAnchorDomain], &by_anchor[kAnchorIpv4], &by_anchor[kAnchorFile]);
  entries_.reserve(hex_runs.size() / 4 + 64);
  auto each = [&](Anchor a, auto&& fn) {
    for (size_t end : by_anchor[a]) fn(end);
  };
  each(kAnchorUrl, [&](size_t e) { ScanUrl(e); });
  each(kAnchorRegkey, [&](size_t e) {
    size_t s = e - 1;
    while (s > 0 && (IsAlpha(t_[s - 1]) || t_[s - 1] == '_' || t_[s - 1] == ':')) --s;
    ScanPath(s, /*regkey=*/true);
  });
  each(kAnchorDrivePath, [&](size_t e) { ScanPath(e - 3, false); });
  each(kAnchorEnvPath, [&](size_t e) {
    size_t pct = t_.rfind('%', e - 3);
    if (pct != std::string_view::npos && !IsAlnum(Before(pct))) ScanPath(pct, false);
  });
  each(kAnchorUncPath, [&](size_t e) {
    if (Before(e - 3) != '\\' && Before(e - 3) != ':') ScanPath(e - 3, false);
  });
  each(kAnchorEmail, [&](size_t e) { ScanEmail(e); });
  each(kAnchorFile, [&](size_t e) { ScanFile(e); });
  {
    // IPv4 and domain anchors both start a host token; walk them in text order.
    std::vector<Pos>& hosts = by_anchor[kAnchorDomain];
    const std::vector<Pos>& v4 = by_anchor[kAnchorIpv4];
    size_t mid = hosts.size();
    hosts.insert(hosts.end(), v4.begin(), v4.end());
    std::inplace_merge(hosts.begin(), hosts.begin() + static_cast<std::ptrdiff_t>(mid),
                       hosts.end());
    for (size_t e : hosts) {
      if (e > covered_[kAnchorDomain]) ScanHost(e);
    }
  }
  each(kAnchorIpv6, [&](size_t e) { ScanIpv6(e); });
  for (const HexRun& run : hex_runs) ScanHex(run);
  each(kAnchorCve, [&](size_t e) { ScanCve(e); });
  each(kAnchorAsn, [&](size_t e) { ScanAsn(e); });
  each(kAnchorBtc58, [&](size_t e) { ScanBtc(e, false); });
  each(kAnchorBech32, [&](size_t e) { ScanBtc(e, true); });
  each(kAnchorSsdeep, [&](size_t e) { ScanSsdeep(e); });

  // Order of first occurrence; ties (rare: different types at one offset) by
  // insertion.
  std::vector<uint32_t>& order = ws_->order;
  order.resize(entries_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
    return entries_[a].start != entries_[b].start ? entries_[a].start < entries_[b].start : a < b;
  });
  if (order.size() > impl_.options.max_indicators) order.resize(impl_.options.max_indicators);

  // Positions and context in the original text. Entries are in text order, so
  // lines are counted in one forward pass.
  auto is_cont = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
  size_t half = impl_.options.max_context_bytes / 2;
  size_t line_no = 1;
  size_t line_start = 0;
  size_t counted = 0;  // newlines before this offset are in line_no
  for (uint32_t idx : order) {
    const Entry& e = entries_[idx];
    if (!e.kept && !impl_.options.keep_benign) continue;
    size_t os = ToOrig(e.start);
    size_t oe = std::max(os, ToOrig(e.end == 0 ? 0 : e.end - 1) + 1);
    while (counted < os) {
      const void* nl = std::memchr(orig_.data() + counted, '\n', os - counted);
      if (nl == nullptr) {
        counted = os;
        break;
      }
      ++line_no;
      counted = static_cast<size_t>(static_cast<const char*>(nl) - orig_.data()) + 1;
      line_start = counted;
    }
    size_t line_end = orig_.find('\n', os);
    if (line_end == std::string_view::npos) line_end = orig_.size();
    ExtractedIndicator& x = out.emplace_back();
    x.indicator.type = e.type;
    x.indicator.value.assign(values_, e.value_offset, e.value_length);
    x.defanged = e.defanged;
    if (!e.kept) x.benign_reason = e.reason.ToString();
    x.line = static_cast<uint32_t>(line_no);
    uint32_t col = 1;
    for (size_t p = line_start; p < os; ++p) {
      if (!is_cont(orig_[p])) ++col;
    }
    x.column = col;
    size_t cs = os > line_start + half ? os - half : line_start;
    size_t ce = std::min(line_end, std::max(oe, os) + half);
    while (cs > line_start && is_cont(orig_[cs])) --cs;
    while (ce < line_end && is_cont(orig_[ce])) ++ce;
    std::string ctx(orig_.substr(cs, ce - cs));
    for (char& ch : ctx) {
      if (ch == '\t' || ch == '\r') ch = ' ';
    }
    size_t a = ctx.find_first_not_of(' ');
    size_t b = ctx.find_last_not_of(' ');
    x.context = a == std::string::npos ? "" : ctx.substr(a, b - a + 1);
  }
  return out;
}

}  // namespace

// ---- public API
// ---------------------------------------------------------------------------------

Extractor::Extractor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Extractor::~Extractor() = default;

const ExtractOptions& Extractor::options() const { return impl_->options; }

Result<std::unique_ptr<Extractor>> Extractor::Create(const ExtractOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::string dir = options.data_dir;
  if (dir.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(dir, DataDir());
  }
  IOCGRID_ASSIGN_OR_RETURN(impl->lists, internal::Warninglists::Load(dir));

  std::vector<Pattern> refang;
  for (const RefangRule& r : kRefangRules) refang.push_back({Literal(r.from), HS_FLAG_CASELESS});
  IOCGRID_ASSIGN_OR_RETURN(impl->refang_db, Compile(refang));
  IOCGRID_ASSIGN_OR_RETURN(impl->anchor_db, Compile(AnchorPatterns()));
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(impl->refang_db.get(), &scratch) != HS_SUCCESS ||
      hs_alloc_scratch(impl->anchor_db.get(), &scratch) != HS_SUCCESS) {
    hs_free_scratch(scratch);
    return InternalError("hyperscan: cannot allocate scratch");
  }
  impl->prototype.reset(scratch);

  for (const Range& r : kReservedRanges) {
    auto net = core::ParseIpNetwork(r.cidr);
    IOCGRID_CHECK(net.ok());
    impl->reserved.push_back(*net);
  }
  for (const PublicDns& d : kPublicDns) {
    auto net = core::ParseIpNetwork(d.ip);
    IOCGRID_CHECK(net.ok());
    impl->public_dns.push_back(*net);
  }
  for (const std::string& d : options.ignore_domains) {
    auto n = core::NormalizeDomain(d);
    if (!n.ok()) {
      return InvalidArgumentError("--ignore-domain '" + d +
                                  "': " + std::string(n.status().message()));
    }
    impl->ignore_domains.push_back(std::move(*n));
  }
  impl->types.insert(options.types.begin(), options.types.end());
  for (size_t i = 0; i < impl->allowed.size(); ++i) {
    impl->allowed[i] = impl->types.empty() || impl->types.count(static_cast<IndicatorType>(i)) != 0;
  }
  for (std::string_view f : kWellKnownFiles) impl->well_known_files.insert(f);
  for (size_t pos = 0; pos <= kFileExtensions.size();) {
    size_t bar = std::min(kFileExtensions.find('|', pos), kFileExtensions.size());
    impl->file_extensions.Add(kFileExtensions.substr(pos, bar - pos), 1);
    pos = bar + 1;
  }
  return std::unique_ptr<Extractor>(new Extractor(std::move(impl)));
}

std::vector<ExtractedIndicator> Extractor::Extract(std::string_view text) const {
  Run run(*impl_, text);
  return run.Go();
}

std::vector<std::string_view> FilterNames() {
  return std::vector<std::string_view>(std::begin(kFilterNames), std::end(kFilterNames));
}

Status SetFilter(ExtractFilters& filters, std::string_view name, bool on) {
  bool* flag = FilterFlag(filters, name);
  if (flag == nullptr) {
    std::string known;
    for (std::string_view n : kFilterNames) known += (known.empty() ? "" : ", ") + std::string(n);
    return InvalidArgumentError("unknown filter '" + std::string(name) + "' (known: " + known +
                                ")");
  }
  *flag = on;
  return Status();
}

Result<std::vector<core::IndicatorType>> ParseTypeList(std::string_view list) {
  std::vector<core::IndicatorType> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string name = Lower(list.substr(pos, comma - pos));
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    pos = comma + 1;
    if (name.empty()) continue;
    struct Group {
      std::string_view name;
      std::vector<IndicatorType> types;
    };
    static const Group kGroups[] = {
        {"ip", {T::kIpDst, T::kIpDstPort}},
        {"domain", {T::kDomain, T::kHostname}},
        {"url", {T::kUrl}},
        {"email", {T::kEmailSrc}},
        {"hash", {T::kMd5, T::kSha1, T::kSha256, T::kSha512, T::kSsdeep}},
        {"cve", {T::kVulnerability}},
        {"asn", {T::kAs}},
        {"btc", {T::kBtc}},
        {"bitcoin", {T::kBtc}},
        {"file", {T::kFilename}},
        {"path", {T::kFilename}},
        {"regkey", {T::kRegkey}},
        {"registry", {T::kRegkey}},
    };
    bool found = false;
    for (const Group& g : kGroups) {
      if (g.name == name) {
        out.insert(out.end(), g.types.begin(), g.types.end());
        found = true;
      }
    }
    if (found) continue;
    auto t = core::ResolveTypeName(name);
    if (!t.ok() || !t->has_value()) {
      return InvalidArgumentError("unknown type '" + name +
                                  "' (use ip, domain, url, email, hash, cve, asn, btc, file, "
                                  "regkey or a MISP type name)");
    }
    out.push_back(**t);
  }
  if (out.empty()) return InvalidArgumentError("empty type list");
  return out;
}

}  // namespace iocgrid::extract
