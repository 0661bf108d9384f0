#include "extract/internal/filters.h"

#include <algorithm>
#include <iterator>

#include "common/check.h"
#include "extract/internal/run.h"
#include "extract/internal/text.h"

namespace iocgrid::extract::internal {
namespace {

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

// Parses the networks of a constant table; `cidr` picks an entry's text.
template <typename Table, typename Cidr>
std::vector<core::IpNetwork> ParseNetworks(const Table& table, Cidr cidr) {
  std::vector<core::IpNetwork> out;
  for (const auto& entry : table) {
    auto net = core::ParseIpNetwork(cidr(entry));
    IOCGRID_CHECK(net.ok());
    out.push_back(*net);
  }
  return out;
}

}  // namespace

std::vector<core::IpNetwork> ReservedNetworks() {
  return ParseNetworks(kReservedRanges, [](const Range& r) { return r.cidr; });
}

std::vector<core::IpNetwork> PublicDnsNetworks() {
  return ParseNetworks(kPublicDns, [](const PublicDns& d) { return d.ip; });
}

bool InNetwork(const core::IpNetwork& ip, const core::IpNetwork& range) {
  if (ip.v6 != range.v6 || ip.prefix < range.prefix) return false;
  int bits = range.prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - bits));
    if ((ip.bytes[i] & mask) != (range.bytes[i] & mask)) return false;
  }
  return true;
}

std::span<const std::string_view> WellKnownFiles() { return kWellKnownFiles; }

bool IsSystemDir(std::string_view dir) {
  return std::find(std::begin(kSystemDirs), std::end(kSystemDirs), dir) != std::end(kSystemDirs);
}

bool IsFileLikeTld(std::string_view tld) {
  return std::find(std::begin(kFileLikeTlds), std::end(kFileLikeTlds), tld) !=
         std::end(kFileLikeTlds);
}

bool IsMessageIdHeader(std::string_view header) {
  for (std::string_view h : kMessageIdHeaders) {
    if (EqualsIgnoreAsciiCase(header, h)) return true;
  }
  return false;
}

bool IsReservedAsn(uint64_t n) {
  return n == 0 || n == 23456 || (n >= 64496 && n <= 65551) ||
         (n >= 4200000000ULL && n <= 4294967295ULL);
}

// ---- the filters that read the options and warninglists

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
    if (EqualsIgnoreAsciiCase(word, v)) return true;
  }
  return false;
}

}  // namespace iocgrid::extract::internal
