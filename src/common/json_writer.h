// A small append-only JSON writer for large outputs (restSearch pages, grid match streams, sift
// NDJSON), where building a DOM per row would cost more than the work. Strings are escaped per
// RFC 8259; invalid UTF-8 bytes are replaced with U+FFFD so a response is always valid JSON.
//
// Thread-safety: one writer per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace iocgrid {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() {
    Sep();
    *out_ += '{';
    first_ = true;
  }
  void EndObject() {
    *out_ += '}';
    first_ = false;
  }
  void BeginArray() {
    Sep();
    *out_ += '[';
    first_ = true;
  }
  void EndArray() {
    *out_ += ']';
    first_ = false;
  }
  // A key inside an object; the next value call writes its value.
  void Key(std::string_view key) {
    Sep();
    String(key, false);
    *out_ += ':';
    first_ = true;
  }

  void String(std::string_view s) {
    Sep();
    String(s, false);
  }
  void Int(int64_t v) {
    Sep();
    *out_ += std::to_string(v);
  }
  // MISP sends integer columns as strings ("id": "12").
  void IdString(int64_t v) {
    Sep();
    *out_ += '"';
    *out_ += std::to_string(v);
    *out_ += '"';
  }
  void Bool(bool v) {
    Sep();
    *out_ += v ? "true" : "false";
  }
  void Null() {
    Sep();
    *out_ += "null";
  }
  // Raw, already valid JSON.
  void Raw(std::string_view json) {
    Sep();
    *out_ += json;
  }

  // Shorthands for "key": value.
  void Field(std::string_view k, std::string_view v) {
    Key(k);
    String(v);
  }
  void Field(std::string_view k, const char* v) {
    Key(k);
    String(v);
  }
  void Field(std::string_view k, bool v) {
    Key(k);
    Bool(v);
  }
  void FieldInt(std::string_view k, int64_t v) {
    Key(k);
    Int(v);
  }
  void FieldId(std::string_view k, int64_t v) {
    Key(k);
    IdString(v);
  }
  void FieldNull(std::string_view k) {
    Key(k);
    Null();
  }

  // Starts a new top-level value in the same buffer (NDJSON lines).
  void Reset() { first_ = true; }

 private:
  void Sep() {
    if (!first_) *out_ += ',';
    first_ = false;
  }
  void String(std::string_view s, bool);

  std::string* out_;
  bool first_ = true;
};

}  // namespace iocgrid
