// LoadDocument / DecodeDocument: report files to UTF-8 plain text (see extractor.h).
#include <fcntl.h>
#include <iconv.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "extract/extractor.h"
#include "extract/internal/text.h"

extern char** environ;

namespace iocgrid::extract {
namespace {

using internal::EqualsNoCase;
using internal::Lower;
using internal::StartsWithNoCase;

constexpr size_t kMaxDocumentBytes = 64u << 20;
constexpr auto kPdfTimeout = std::chrono::seconds(60);

// ---- encodings ----------------------------------------------------------------------------------

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    if (n == 2 && c < 0xC2) return false;  // overlong
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Converts with iconv; false when the input is not valid in `from`.
bool Convert(std::string_view in, const char* from, std::string* out) {
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out->clear();
  out->resize(in.size() * 4 + 16);
  char* src = const_cast<char*>(in.data());  // iconv's API is not const-correct
  size_t src_left = in.size();
  char* dst = out->data();
  size_t dst_left = out->size();
  size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
  bool ok = rc != static_cast<size_t>(-1) && src_left == 0;
  if (ok) ok = iconv(cd, nullptr, nullptr, &dst, &dst_left) != static_cast<size_t>(-1);
  iconv_close(cd);
  out->resize(out->size() - dst_left);
  return ok;
}

// Scores how Japanese a byte string looks in each legacy encoding: the number of well-formed
// two-byte characters. EUC-JP uses 0xA1-0xFE pairs (and 0x8E half-width kana); Shift_JIS
// leads with 0x81-0x9F/0xE0-0xFC and trails with 0x40-0xFC.
void ScoreJapanese(std::string_view s, int* sjis, int* eucjp) {
  *sjis = *eucjp = 0;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    auto a = static_cast<unsigned char>(s[i]);
    auto b = static_cast<unsigned char>(s[i + 1]);
    if (a >= 0xA1 && a <= 0xFE && b >= 0xA1 && b <= 0xFE) ++*eucjp;
    if (((a >= 0x81 && a <= 0x9F) || (a >= 0xE0 && a <= 0xFC)) && b >= 0x40 && b <= 0xFC &&
        b != 0x7F) {
      ++*sjis;
    }
  }
}

std::string ToUtf8(std::string bytes) {
  std::string_view v = bytes;
  if (v.size() >= 3 && v.substr(0, 3) == "\xEF\xBB\xBF") return bytes.substr(3);
  std::string out;
  if (v.size() >= 2 && v.substr(0, 2) == "\xFF\xFE" && Convert(v.substr(2), "UTF-16LE", &out)) {
    return out;
  }
  if (v.size() >= 2 && v.substr(0, 2) == "\xFE\xFF" && Convert(v.substr(2), "UTF-16BE", &out)) {
    return out;
  }
  if (ValidUtf8(v)) return bytes;
  int sjis = 0, eucjp = 0;
  ScoreJapanese(v, &sjis, &eucjp);
  // Try the likelier Japanese encoding first; a strict conversion failure rules one out.
  const char* order[2] = {"EUC-JP", "CP932"};
  if (sjis > eucjp) std::swap(order[0], order[1]);
  for (const char* enc : order) {
    if (Convert(v, enc, &out)) return out;
  }
  if (Convert(v, "WINDOWS-1252", &out)) return out;
  Convert(v, "ISO-8859-1", &out);  // total: every byte is a character
  return out;
}

// ---- HTML -------------------------------------------------------------------------------------

struct Entity {
  std::string_view name;
  std::string_view utf8;
};
constexpr Entity kEntities[] = {{"amp", "&"},
                                {"lt", "<"},
                                {"gt", ">"},
                                {"quot", "\""},
                                {"apos", "'"},
                                {"nbsp", " "},
                                {"period", "."},
                                {"commat", "@"},
                                {"colon", ":"},
                                {"sol", "/"},
                                {"lsqb", "["},
                                {"rsqb", "]"},
                                {"lbrack", "["},
                                {"rbrack", "]"},
                                {"lpar", "("},
                                {"rpar", ")"},
                                {"ndash", "\xE2\x80\x93"},
                                {"mdash", "\xE2\x80\x94"},
                                {"ldquo", "\xE2\x80\x9C"},
                                {"rdquo", "\xE2\x80\x9D"},
                                {"lsquo", "\xE2\x80\x98"},
                                {"rsquo", "\xE2\x80\x99"},
                                {"hellip", "\xE2\x80\xA6"},
                                {"copy", "\xC2\xA9"},
                                {"reg", "\xC2\xAE"},
                                {"bull", "\xE2\x80\xA2"},
                                {"middot", "\xC2\xB7"}};

void AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp == 0xA0) cp = ' ';
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the entities of `s` into `out`.
void DecodeEntities(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      *out += s[i];
      continue;
    }
    size_t semi = s.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) {
      *out += '&';
      continue;
    }
    std::string_view name = s.substr(i + 1, semi - i - 1);
    bool done = false;
    if (!name.empty() && name[0] == '#') {
      bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
      std::string digits(name.substr(hex ? 2 : 1));
      if (!digits.empty() && digits.size() <= 8 &&
          digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") ==
              std::string::npos) {
        AppendCodePoint(static_cast<uint32_t>(std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10)),
                        out);
        done = true;
      }
    } else {
      for (const Entity& e : kEntities) {
        if (EqualsNoCase(name, e.name)) {
          *out += e.utf8;
          done = true;
          break;
        }
      }
    }
    if (done) {
      i = semi;
    } else {
      *out += '&';
    }
  }
}

bool IsBlockTag(std::string_view tag) {
  static constexpr std::string_view kBlock[] = {
      "p",       "div",        "br",     "li",     "ul",  "ol",    "tr",  "table",
      "h1",      "h2",         "h3",     "h4",     "h5",  "h6",    "pre", "blockquote",
      "section", "article",    "header", "footer", "hr",  "dt",    "dd",  "title",
      "code",    "figcaption", "thead",  "tbody",  "nav", "aside", "main"};
  for (std::string_view b : kBlock) {
    if (EqualsNoCase(tag, b)) return true;
  }
  return false;
}

// The value of attribute `attr` in the inside of a tag ("a href=\"x\" class=y").
std::string_view AttributeValue(std::string_view inside, std::string_view attr) {
  size_t i = 0;
  while (i < inside.size()) {
    size_t found = std::string_view::npos;
    for (size_t p = i; p + attr.size() <= inside.size(); ++p) {
      if (EqualsNoCase(inside.substr(p, attr.size()), attr) &&
          (p == 0 || internal::IsSpace(inside[p - 1]))) {
        found = p;
        break;
      }
    }
    if (found == std::string_view::npos) return {};
    size_t p = found + attr.size();
    while (p < inside.size() && internal::IsSpace(inside[p])) ++p;
    if (p >= inside.size() || inside[p] != '=') {
      i = found + attr.size();
      continue;
    }
    ++p;
    while (p < inside.size() && internal::IsSpace(inside[p])) ++p;
    if (p >= inside.size()) return {};
    char q = inside[p];
    if (q == '"' || q == '\'') {
      size_t close = inside.find(q, p + 1);
      if (close == std::string_view::npos) return {};
      return inside.substr(p + 1, close - p - 1);
    }
    size_t e = p;
    while (e < inside.size() && !internal::IsSpace(inside[e]) && inside[e] != '>') ++e;
    return inside.substr(p, e - p);
  }
  return {};
}

std::string HtmlToText(std::string_view html) {
  std::string text;
  text.reserve(html.size());
  size_t i = 0;
  size_t run = 0;  // start of the pending text run
  auto flush = [&](size_t upto) { DecodeEntities(html.substr(run, upto - run), &text); };
  while (i < html.size()) {
    if (html[i] != '<') {
      ++i;
      continue;
    }
    flush(i);
    if (html.substr(i, 4) == "<!--") {
      size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      run = i;
      continue;
    }
    size_t close = html.find('>', i + 1);
    if (close == std::string_view::npos) {
      run = i;
      i = html.size();
      break;
    }
    std::string_view inside = html.substr(i + 1, close - i - 1);
    bool closing = !inside.empty() && inside[0] == '/';
    std::string_view rest = closing ? inside.substr(1) : inside;
    size_t name_end = 0;
    while (name_end < rest.size() && (internal::IsAlnum(rest[name_end]))) ++name_end;
    std::string_view tag = rest.substr(0, name_end);
    i = close + 1;
    run = i;
    if (!closing && (EqualsNoCase(tag, "script") || EqualsNoCase(tag, "style"))) {
      // Skip the element's content: code and CSS, not report text.
      std::string end_tag = "</" + Lower(tag);
      size_t p = i;
      size_t found = std::string_view::npos;
      while (p < html.size()) {
        size_t lt = html.find("</", p);
        if (lt == std::string_view::npos) break;
        if (StartsWithNoCase(html.substr(lt), end_tag)) {
          found = lt;
          break;
        }
        p = lt + 2;
      }
      size_t after =
          found == std::string_view::npos ? std::string_view::npos : html.find('>', found);
      i = after == std::string_view::npos ? html.size() : after + 1;
      run = i;
      continue;
    }
    if (IsBlockTag(tag)) {
      text += '\n';
    } else if (EqualsNoCase(tag, "td") || EqualsNoCase(tag, "th")) {
      text += '\t';
    }
    if (!closing) {
      // Link targets are often the indicators themselves ("click here" -> href).
      for (std::string_view attr : {std::string_view("href"), std::string_view("src")}) {
        std::string_view v = AttributeValue(inside, attr);
        if (!v.empty() && v[0] != '#' && !StartsWithNoCase(v, "javascript:") &&
            !StartsWithNoCase(v, "data:")) {
          text += ' ';
          DecodeEntities(v, &text);
          text += ' ';
        }
      }
    }
  }
  flush(i);
  return text;
}

bool LooksLikeHtml(std::string_view s, std::string_view name) {
  std::string lower_name = Lower(name);
  for (std::string_view ext : {".html", ".htm", ".xhtml"}) {
    if (lower_name.size() >= ext.size() &&
        lower_name.compare(lower_name.size() - ext.size(), ext.size(), ext) == 0) {
      return true;
    }
  }
  std::string_view head = s.substr(0, 1024);
  size_t p = head.find_first_not_of(" \t\r\n");
  if (p == std::string_view::npos) return false;
  head.remove_prefix(p);
  return StartsWithNoCase(head, "<!doctype html") || StartsWithNoCase(head, "<html") ||
         StartsWithNoCase(head, "<?xml") || StartsWithNoCase(head, "<head") ||
         StartsWithNoCase(head, "<body");
}

// ---- PDF ----------------------------------------------------------------------------------------

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

Result<std::string> FindPdftotext() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t colon = dirs.find(':', pos);
    if (colon == std::string::npos) colon = dirs.size();
    std::string candidate = dirs.substr(pos, colon - pos) + "/pdftotext";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = colon + 1;
  }
  return Status(StatusCode::kUnavailable,
                "PDF input needs pdftotext (Debian package poppler-utils), which is not installed");
}

// Runs `pdftotext -enc UTF-8 -layout FILE -` with a deadline and an output cap.
Result<std::string> PdfToText(const std::string& file) {
  IOCGRID_ASSIGN_OR_RETURN(std::string tool, FindPdftotext());
  int fds[2];
  if (::pipe(fds) != 0) return InternalError(std::string("pipe: ") + std::strerror(errno));
  FdCloser read_end{fds[0]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string a0 = tool, a1 = "-q", a2 = "-enc", a3 = "UTF-8", a4 = "-layout", a6 = "-";
  std::string a5 = file;
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(),
                  a4.data(), a5.data(), a6.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) return InternalError(std::string("cannot run pdftotext: ") + std::strerror(rc));
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + kPdfTimeout;
  bool failed = false;
  std::string why;
  char buf[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      failed = true;
      why = "pdftotext timed out";
      break;
    }
    pollfd p{read_end.fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = ::read(read_end.fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
    if (out.size() > kMaxDocumentBytes) {
      failed = true;
      why = "pdftotext output larger than 64 MiB";
      break;
    }
  }
  if (failed) ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (failed) return DataLossError(why);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return DataLossError("pdftotext could not read the PDF (exit status " +
                         std::to_string(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) + ")");
  }
  return out;
}

bool IsPdf(std::string_view bytes) {
  return bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos;
}

Result<std::string> ReadAll(int fd, const std::string& what) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t got = ::read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return InvalidArgumentError(what + ": " + std::strerror(errno));
    if (got == 0) break;
    out.append(buf, static_cast<size_t>(got));
    if (out.size() > kMaxDocumentBytes) {
      return ResourceExhaustedError(what + ": larger than 64 MiB");
    }
  }
  return out;
}

}  // namespace

Result<std::string> DecodeDocument(std::string bytes, std::string_view name) {
  if (IsPdf(bytes)) {
    // pdftotext wants a file: spill the bytes to a private temporary one.
    const char* tmpdir = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp") + "/iocgrid-pdf-XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) return InternalError(std::string("mkstemp: ") + std::strerror(errno));
    FdCloser closer{fd};
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ::unlink(tmpl.c_str());
        return InternalError(std::string("write: ") + std::strerror(errno));
      }
      off += static_cast<size_t>(w);
    }
    auto text = PdfToText(tmpl);
    ::unlink(tmpl.c_str());
    if (!text.ok()) return text.status();
    return ToUtf8(std::move(*text));
  }
  std::string text = ToUtf8(std::move(bytes));
  if (LooksLikeHtml(text, name)) return HtmlToText(text);
  return text;
}

Result<std::string> LoadDocument(const std::string& path) {
  if (path == "-") {
    IOCGRID_ASSIGN_OR_RETURN(std::string bytes, ReadAll(0, "standard input"));
    return DecodeDocument(std::move(bytes), "");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFoundError(path + ": no such file");
    if (err == EACCES) return PermissionDeniedError(path + ": permission denied");
    return InvalidArgumentError(path + ": " + std::strerror(err));
  }
  FdCloser closer{fd};
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return InvalidArgumentError(path + ": is a directory");
    if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > kMaxDocumentBytes) {
      return ResourceExhaustedError(path + ": larger than 64 MiB");
    }
  }
  IOCGRID_ASSIGN_OR_RETURN(std::string bytes, ReadAll(fd, path));
  if (IsPdf(bytes)) {
    auto text = PdfToText(path);
    if (!text.ok()) return text.status().WithContext(path);
    return ToUtf8(std::move(*text));
  }
  return DecodeDocument(std::move(bytes), path);
}

}  // namespace iocgrid::extract
