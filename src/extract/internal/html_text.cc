// HTML reports to text (see document_text.h, HtmlToText).
#include <cstdint>
#include <string>
#include <string_view>

#include "extract/internal/document_text.h"
#include "extract/internal/text.h"

namespace iocgrid::extract::internal {
namespace {

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
        if (EqualsIgnoreAsciiCase(name, e.name)) {
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
    if (EqualsIgnoreAsciiCase(tag, b)) return true;
  }
  return false;
}

// The value of attribute `attr` in the inside of a tag ("a href=\"x\" class=y").
std::string_view AttributeValue(std::string_view inside, std::string_view attr) {
  size_t i = 0;
  while (i < inside.size()) {
    size_t found = std::string_view::npos;
    for (size_t p = i; p + attr.size() <= inside.size(); ++p) {
      if (EqualsIgnoreAsciiCase(inside.substr(p, attr.size()), attr) &&
          (p == 0 || IsAsciiSpace(inside[p - 1]))) {
        found = p;
        break;
      }
    }
    if (found == std::string_view::npos) return {};
    size_t p = found + attr.size();
    while (p < inside.size() && IsAsciiSpace(inside[p])) ++p;
    if (p >= inside.size() || inside[p] != '=') {
      i = found + attr.size();
      continue;
    }
    ++p;
    while (p < inside.size() && IsAsciiSpace(inside[p])) ++p;
    if (p >= inside.size()) return {};
    char q = inside[p];
    if (q == '"' || q == '\'') {
      size_t close = inside.find(q, p + 1);
      if (close == std::string_view::npos) return {};
      return inside.substr(p + 1, close - p - 1);
    }
    size_t e = p;
    while (e < inside.size() && !IsAsciiSpace(inside[e]) && inside[e] != '>') ++e;
    return inside.substr(p, e - p);
  }
  return {};
}

}  // namespace

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
    if (!closing && (EqualsIgnoreAsciiCase(tag, "script") || EqualsIgnoreAsciiCase(tag, "style"))) {
      // Skip the element's content: code and CSS, not report text.
      std::string end_tag = "</" + AsciiLower(tag);
      size_t p = i;
      size_t found = std::string_view::npos;
      while (p < html.size()) {
        size_t lt = html.find("</", p);
        if (lt == std::string_view::npos) break;
        if (StartsWithIgnoreAsciiCase(html.substr(lt), end_tag)) {
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
    } else if (EqualsIgnoreAsciiCase(tag, "td") || EqualsIgnoreAsciiCase(tag, "th")) {
      text += '\t';
    }
    if (!closing) {
      // Link targets are often the indicators themselves ("click here" -> href).
      for (std::string_view attr : {std::string_view("href"), std::string_view("src")}) {
        std::string_view v = AttributeValue(inside, attr);
        if (!v.empty() && v[0] != '#' && !StartsWithIgnoreAsciiCase(v, "javascript:") &&
            !StartsWithIgnoreAsciiCase(v, "data:")) {
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
  std::string lower_name = AsciiLower(name);
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
  return StartsWithIgnoreAsciiCase(head, "<!doctype html") ||
         StartsWithIgnoreAsciiCase(head, "<html") || StartsWithIgnoreAsciiCase(head, "<?xml") ||
         StartsWithIgnoreAsciiCase(head, "<head") || StartsWithIgnoreAsciiCase(head, "<body");
}

}  // namespace iocgrid::extract::internal
