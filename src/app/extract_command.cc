// `iocgrid extract`: pull indicators out of report files (issue 5).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/commands.h"
#include "extract/extractor.h"

namespace iocgrid::app {
namespace {

struct ExtractFlags {
  std::string format = "table";
  std::string types;
  bool keep_benign = false;
  std::vector<std::string> ignore_domains;
  std::vector<std::string> no_filters;
  std::vector<std::string> files;
};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void Print(const std::string& file, bool many_files, const std::string& format,
           const std::vector<extract::ExtractedIndicator>& found, bool* header_done) {
  for (const auto& x : found) {
    std::string type(core::TypeName(x.indicator.type));
    if (format == "json") {
      nlohmann::json j;
      j["type"] = type;
      j["value"] = x.indicator.value;
      j["defanged"] = x.defanged;
      j["line"] = x.line;
      j["column"] = x.column;
      j["benign_reason"] = x.benign_reason;
      j["context"] = x.context;
      j["file"] = file;
      // Replace invalid UTF-8 (a report's bytes may be anything) instead of throwing.
      std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::printf("%s\n", line.c_str());
    } else if (format == "csv") {
      if (!*header_done) {
        std::printf("type,value,defanged,line,column,benign_reason,file,context\n");
        *header_done = true;
      }
      std::printf("%s,%s,%s,%u,%u,%s,%s,%s\n", CsvField(type).c_str(),
                  CsvField(x.indicator.value).c_str(), x.defanged ? "true" : "false", x.line,
                  x.column, CsvField(x.benign_reason).c_str(), CsvField(file).c_str(),
                  CsvField(x.context).c_str());
    } else if (format == "list") {
      std::printf("%s\n", x.indicator.value.c_str());
    } else {
      if (!*header_done) {
        std::printf("%-14s %-64s %-8s %-9s %s\n", "TYPE", "VALUE", "DEFANGED", "LINE:COL",
                    many_files ? "FILE / BENIGN" : "BENIGN");
        *header_done = true;
      }
      std::string where = std::to_string(x.line) + ":" + std::to_string(x.column);
      std::string note = x.benign_reason;
      if (many_files) note = file + (note.empty() ? "" : " " + note);
      std::printf("%-14s %-64s %-8s %-9s %s\n", type.c_str(), x.indicator.value.c_str(),
                  x.defanged ? "yes" : "no", where.c_str(), note.c_str());
    }
  }
}

int RunExtract(const ExtractFlags& flags) {
  extract::ExtractOptions options;
  options.keep_benign = flags.keep_benign;
  options.ignore_domains = flags.ignore_domains;
  if (!flags.types.empty()) {
    auto types = extract::ParseTypeList(flags.types);
    if (!types.ok()) {
      std::fprintf(stderr, "iocgrid extract: --types: %s\n",
                   std::string(types.status().message()).c_str());
      return kExitError;
    }
    options.types = std::move(*types);
  }
  for (const std::string& f : flags.no_filters) {
    Status s = extract::SetFilter(options.filters, f, false);
    if (!s.ok()) {
      std::fprintf(stderr, "iocgrid extract: --no-filter: %s\n", std::string(s.message()).c_str());
      return kExitError;
    }
  }
  auto extractor = extract::Extractor::Create(options);
  if (!extractor.ok()) {
    std::fprintf(stderr, "iocgrid extract: %s\n", extractor.status().ToString().c_str());
    return kExitError;
  }
  bool any = false;
  bool header_done = false;
  for (const std::string& file : flags.files) {
    auto text = extract::LoadDocument(file);
    if (!text.ok()) {
      std::fprintf(stderr, "iocgrid extract: %s\n", std::string(text.status().message()).c_str());
      return kExitError;
    }
    auto found = (*extractor)->Extract(*text);
    any = any || !found.empty();
    Print(file == "-" ? "<stdin>" : file, flags.files.size() > 1, flags.format, found,
          &header_done);
  }
  std::fflush(stdout);
  return any ? kExitFound : kExitNotFound;
}

}  // namespace

Command AddExtractCommand(CLI::App& app) {
  auto flags = std::make_shared<ExtractFlags>();
  Command c;
  c.subcommand = app.add_subcommand(
      "extract",
      "extract IoCs from report text (txt, md, html, pdf; UTF-8, Shift_JIS, EUC-JP); "
      "exit 0 when indicators were found, 1 when none, 2 on error");
  CLI::App* sub = c.subcommand;
  sub->add_option("--format", flags->format, "output: table, json (NDJSON), csv or list")
      ->check(CLI::IsMember({"table", "json", "csv", "list"}));
  sub->add_option("--types", flags->types,
                  "comma-separated types to keep: ip, domain, url, email, hash, cve, asn, btc, "
                  "file, regkey, or MISP type names (md5, sha256, ip-dst...)");
  sub->add_flag("--keep-benign", flags->keep_benign,
                "also print the indicators a filter dropped, with benign_reason");
  sub->add_option("--ignore-domain", flags->ignore_domains,
                  "the publisher's own domain (repeatable): it and its subdomains are benign")
      ->allow_extra_args(false);
  std::string filter_help = "turn a false-positive filter off (repeatable):";
  for (std::string_view f : extract::FilterNames()) filter_help += " " + std::string(f);
  sub->add_option("--no-filter", flags->no_filters, filter_help)->allow_extra_args(false);
  sub->add_option("files", flags->files, "report files, or - for standard input")->required();
  c.run = [flags] { return RunExtract(*flags); };
  return c;
}

}  // namespace iocgrid::app
