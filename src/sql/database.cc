#include "sql/database.h"

#include <string>
#include <utility>

#include "sql/internal/statement_backend.h"

namespace iocgrid::sql {

Statement::Statement(std::unique_ptr<internal::StatementBackend> backend)
    : backend_(std::move(backend)) {}
Statement::~Statement() = default;
Statement::Statement(Statement&& other) noexcept = default;
Statement& Statement::operator=(Statement&& other) noexcept = default;

Statement& Statement::Bind(int index, int64_t value) {
  backend_->Bind(index, value);
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  backend_->BindText(index, value);
  return *this;
}

Statement& Statement::BindBlob(int index, std::span<const unsigned char> value) {
  backend_->BindBlob(index, value);
  return *this;
}

Statement& Statement::BindNull(int index) {
  backend_->BindNull(index);
  return *this;
}

Statement& Statement::BindTextOrNull(int index, std::string_view value) {
  return value.empty() ? BindNull(index) : BindText(index, value);
}

Statement& Statement::BindOrNull(int index, std::optional<int64_t> value) {
  return value.has_value() ? Bind(index, *value) : BindNull(index);
}

Result<bool> Statement::Step() { return backend_->Step(); }
void Statement::Reset() { backend_->Reset(); }

Status Statement::Run() {
  while (true) {
    IOCGRID_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

int64_t Statement::Int(int column) const { return backend_->Int(column); }
std::string_view Statement::Text(int column) const { return backend_->Text(column); }
std::span<const unsigned char> Statement::Blob(int column) const { return backend_->Blob(column); }
bool Statement::IsNull(int column) const { return backend_->IsNull(column); }

Result<int64_t> Database::QueryInt(std::string_view sql) {
  IOCGRID_ASSIGN_OR_RETURN(Statement s, Prepare(sql));
  IOCGRID_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return InternalError("no row from: " + std::string(sql));
  return s.Int(0);
}

Transaction::~Transaction() {
  if (open_ && db_.InTransaction()) {
    // A failed ROLLBACK leaves nothing to do: both engines roll back an open transaction when
    // the connection closes, and the next BEGIN reports the problem.
    db_.Exec("ROLLBACK").IgnoreError();
  }
}

Status Transaction::Begin(Database::TransactionKind kind) {
  IOCGRID_RETURN_IF_ERROR(db_.Begin(kind));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  IOCGRID_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  open_ = false;
  return Status::Ok();
}

}  // namespace iocgrid::sql
