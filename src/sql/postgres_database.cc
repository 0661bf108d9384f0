// sql::Database on a PostgreSQL server through libpq (the only code that includes libpq-fe.h).
// Statements are prepared on the server once per SQL text and connection; parameters go as text
// (blobs as binary) and the server infers their types from the SQL; results come as text and are
// read as the SQLite side reads them. A lost connection is reset once before the next
// statement (prepared statements are prepared again).
#include <libpq-fe.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sql/database.h"
#include "sql/internal/placeholders.h"
#include "sql/internal/statement_backend.h"
#include "sqlite/migrate.h"

namespace iocgrid::sql {
namespace {

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

// The writers' advisory lock ("IOCP", as the SQLite file's application_id), per schema: two
// portals kept in two schemas of one database do not wait for each other.
constexpr std::string_view kWriteLock =
    "SELECT pg_advisory_xact_lock(1229931344, hashtext(current_schema()))";

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// libpq's message as one line: its hint lines ("\n\tIs the server running...") joined by "; ".
std::string Trimmed(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  std::string out;
  out.reserve(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] != '\n') {
      out += m[i];
      continue;
    }
    out += "; ";
    while (i + 1 < m.size() && (m[i + 1] == '\t' || m[i + 1] == ' ')) ++i;
  }
  return out;
}

// Maps a failed result (or connection, when `r` is null) to a Status by SQLSTATE class.
Status PgStatus(const PGresult* r, const PGconn* c, std::string_view what) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = std::string(what) + ": " +
                        Trimmed(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c));
  const std::string s = state != nullptr ? state : "";
  if (s.empty()) return UnavailableError(message);  // no answer: the connection failed
  if (s == "23505") return AlreadyExistsError(message);
  if (s == "57014") return DeadlineExceededError(message);  // statement_timeout (QueryBudget)
  if (s == "53100") return ResourceExhaustedError("disk full (PostgreSQL 53100): " + message);
  const std::string cls = s.substr(0, 2);
  if (cls == "23" || cls == "22") return InvalidArgumentError(message);
  if (cls == "08" || cls == "40" || cls == "57") return UnavailableError(message);
  if (cls == "53" || cls == "54") return ResourceExhaustedError(message);
  if (cls == "28" || s == "42501") return PermissionDeniedError(message);
  return InternalError(message);
}

class PostgresDatabase;

class PostgresStatement final : public internal::StatementBackend {
 public:
  PostgresStatement(PostgresDatabase* db, std::string sql) : db_(db), sql_(std::move(sql)) {}

  void Bind(int index, int64_t value) override { Set(index, std::to_string(value), 0); }
  void BindText(int index, std::string_view value) override {
    // Text parameters are C strings to libpq: a NUL would end the value early, silently.
    if (value.find('\0') != std::string_view::npos) {
      if (bind_error_.ok()) {
        bind_error_ = InvalidArgumentError("postgresql: parameter " + std::to_string(index) +
                                           " holds a NUL byte, which text cannot store");
      }
      return;
    }
    Set(index, std::string(value), 0);
  }
  void BindBlob(int index, std::span<const unsigned char> value) override {
    Set(index, std::string(reinterpret_cast<const char*>(value.data()), value.size()), 1);
  }
  void BindNull(int index) override { Set(index, std::nullopt, 0); }

  Result<bool> Step() override;
  void Reset() override {
    values_.clear();
    formats_.clear();
    bind_error_ = Status::Ok();
    result_.reset();
    row_ = -1;
  }

  int64_t Int(int column) const override {
    const char* v = PQgetvalue(result_.get(), row_, column);
    const int n = PQgetlength(result_.get(), row_, column);
    if (n == 1 && (v[0] == 't' || v[0] == 'f')) return v[0] == 't' ? 1 : 0;  // a boolean
    int64_t out = 0;
    std::from_chars(v, v + n, out);  // numeric sums are integers here; NULL reads as 0
    return out;
  }
  std::string_view Text(int column) const override {
    return {PQgetvalue(result_.get(), row_, column),
            static_cast<size_t>(PQgetlength(result_.get(), row_, column))};
  }
  std::span<const unsigned char> Blob(int column) const override {
    size_t n = 0;
    unsigned char* raw = PQunescapeBytea(
        reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row_, column)), &n);
    blob_.assign(raw, raw == nullptr ? raw : raw + n);
    PQfreemem(raw);
    return blob_;
  }
  bool IsNull(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }

 private:
  void Set(int index, std::optional<std::string> value, int format) {
    if (index < 1 || index > 65535) {
      if (bind_error_.ok()) {
        bind_error_ = InvalidArgumentError("postgresql: no parameter " + std::to_string(index));
      }
      return;
    }
    const size_t i = static_cast<size_t>(index - 1);
    if (values_.size() <= i) {
      values_.resize(i + 1);
      formats_.resize(i + 1, 0);
    }
    values_[i] = std::move(value);
    formats_[i] = format;
  }

  PostgresDatabase* db_;  // must outlive the statement (it owns the connection)
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;
  Status bind_error_;
  ResultPtr result_;
  int row_ = -1;
  mutable std::vector<unsigned char> blob_;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(ConnPtr conn, std::string name)
      : Database(Dialect::kPostgres, std::move(name)), conn_(std::move(conn)) {}

  // Runs a prepared `sql` with text/binary parameters; the result of a statement that
  // succeeded.
  Result<ResultPtr> Execute(const std::string& sql,
                            const std::vector<std::optional<std::string>>& values,
                            const std::vector<int>& formats) {
    std::vector<const char*> ptrs(values.size());
    std::vector<int> lengths(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      ptrs[i] = values[i] ? values[i]->c_str() : nullptr;
      lengths[i] = values[i] ? static_cast<int>(values[i]->size()) : 0;
    }
    return Retried([&]() -> Result<ResultPtr> {
      IOCGRID_ASSIGN_OR_RETURN(const std::string* name, PreparedName(sql));
      ResultPtr r(PQexecPrepared(conn_.get(), name->c_str(), static_cast<int>(values.size()),
                                 ptrs.data(), lengths.data(), formats.data(), 0));
      return Checked(std::move(r), "postgresql");
    });
  }

 private:
  Status DoExec(std::string_view sql) override {
    const std::string text(sql);
    return Retried([&]() -> Result<ResultPtr> {
             return Checked(ResultPtr(PQexec(conn_.get(), text.c_str())), "postgresql");
           })
        .status();
  }

  // Runs `attempt`; when it failed because the connection was lost, outside a transaction,
  // reconnects and runs it once more (inside one, the transaction is gone with the connection:
  // the error stands, and the caller's ROLLBACK clears it). A statement that reached the
  // server just before the loss may thus run twice; the store's writes outside transactions
  // are single-row upserts and updates, for which that is harmless, or inserts by a unique
  // id, which answer kAlreadyExists.
  template <typename Attempt>
  Result<ResultPtr> Retried(Attempt&& attempt) {
    IOCGRID_RETURN_IF_ERROR(EnsureConnected());
    const bool in_transaction = DoInTransaction();
    Result<ResultPtr> r = attempt();
    if (r.ok() || in_transaction || PQstatus(conn_.get()) == CONNECTION_OK) return r;
    IOCGRID_RETURN_IF_ERROR(EnsureConnected());
    return attempt();
  }

  Result<Statement> DoPrepare(std::string_view sql) override {
    const std::string text(sql);
    // SQL errors show here, as SQLite's do.
    Result<ResultPtr> prepared = Retried([&]() -> Result<ResultPtr> {
      Status st = PreparedName(text).status();
      if (!st.ok()) return st;
      return ResultPtr();
    });
    IOCGRID_RETURN_IF_ERROR(prepared.status());
    return Statement(std::make_unique<PostgresStatement>(this, text));
  }

  int64_t DoChanges() const override { return changes_; }

  Status DoBegin(TransactionKind kind) override {
    if (kind == TransactionKind::kSnapshot) {
      return DoExec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    }
    IOCGRID_RETURN_IF_ERROR(DoExec("BEGIN"));
    return DoExec(kWriteLock);
  }

  bool DoInTransaction() const override {
    return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE &&
           PQtransactionStatus(conn_.get()) != PQTRANS_UNKNOWN;
  }

  void DoSetBudget(std::optional<std::chrono::milliseconds> budget) override {
    // Best effort by design: inside a failed transaction SET fails too, and the ROLLBACK that
    // follows restores the setting.
    DoExec("SET statement_timeout = " + std::to_string(budget ? budget->count() : 0)).IgnoreError();
  }

  // A lost connection is reset once, outside a transaction (inside one, the transaction is
  // gone: its statements fail with kUnavailable and the caller's ROLLBACK clears it).
  Status EnsureConnected() {
    if (PQstatus(conn_.get()) == CONNECTION_OK) return Status::Ok();
    PQreset(conn_.get());
    prepared_.clear();
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      return UnavailableError("postgresql: connection to " + name() +
                              " lost: " + Trimmed(PQerrorMessage(conn_.get())));
    }
    if (!reconnect_sql().empty()) {
      ResultPtr r(PQexec(conn_.get(), reconnect_sql().c_str()));
      IOCGRID_RETURN_IF_ERROR(Checked(std::move(r), "postgresql (after reconnecting)").status());
    }
    return Status::Ok();
  }

  // The server-side name of `sql`'s prepared statement, preparing it the first time.
  Result<const std::string*> PreparedName(const std::string& sql) {
    auto it = prepared_.find(sql);
    if (it != prepared_.end()) return &it->second;
    if (prepared_.size() >= 256) {  // built SQL varies: keep the server's list bounded
      IOCGRID_RETURN_IF_ERROR(DoExec("DEALLOCATE ALL"));
      prepared_.clear();
    }
    std::string name = "iocgrid_" + std::to_string(next_name_++);
    ResultPtr r(PQprepare(conn_.get(), name.c_str(), internal::ToDollarPlaceholders(sql).c_str(), 0,
                          nullptr));
    IOCGRID_RETURN_IF_ERROR(Checked(std::move(r), "postgresql prepare").status());
    return &prepared_.emplace(sql, std::move(name)).first->second;
  }

  Result<ResultPtr> Checked(ResultPtr r, std::string_view what) {
    const ExecStatusType st = r != nullptr ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
      return PgStatus(r.get(), conn_.get(), what);
    }
    std::string_view tuples = PQcmdTuples(r.get());
    int64_t n = 0;
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), n);
    changes_ = n;
    return r;
  }

  ConnPtr conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  int64_t next_name_ = 0;
  int64_t changes_ = 0;

  friend class PostgresStatement;
};

Result<bool> PostgresStatement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  if (result_ == nullptr) {
    IOCGRID_ASSIGN_OR_RETURN(result_, db_->Execute(sql_, values_, formats_));
    row_ = 0;
  } else {
    ++row_;
  }
  return row_ < PQntuples(result_.get());
}

}  // namespace

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

Status CheckPostgresUrl(const std::string& url) {
  char* error = nullptr;
  ConninfoPtr parsed(PQconninfoParse(url.c_str(), &error));
  if (parsed == nullptr) {
    std::string message = error != nullptr ? Trimmed(error) : "out of memory";
    PQfreemem(error);
    return InvalidArgumentError("database: not a PostgreSQL URL libpq can read: " + message);
  }
  // libpq reads ports only when it connects; a port that cannot be is an error now.
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) != "port" || o->val == nullptr) continue;
    std::string_view ports = o->val;
    while (true) {
      const size_t comma = ports.find(',');
      const std::string_view port = ports.substr(0, comma);
      int n = 0;
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
      if (!port.empty() &&
          (ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535)) {
        return InvalidArgumentError("database: port must be a number from 1 to 65535, not " +
                                    std::string(port.substr(0, 32)));
      }
      if (comma == std::string_view::npos) break;
      ports.remove_prefix(comma + 1);
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Database>> ConnectPostgres(const std::string& url) {
  IOCGRID_RETURN_IF_ERROR(CheckPostgresUrl(url));
  // Later keywords override earlier ones: the URL's own connect_timeout wins.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {"10", "iocgrid-portal", "UTF8", url.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, 1));
  if (conn == nullptr) return ResourceExhaustedError("postgresql: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    const std::string message = Trimmed(PQerrorMessage(conn.get()));
    if (message.find("authentication") != std::string::npos ||
        message.find("permission denied") != std::string::npos) {
      return PermissionDeniedError("postgresql: " + message);
    }
    return UnavailableError("postgresql: cannot connect: " + message);
  }
  PQsetNoticeProcessor(conn.get(), &IgnoreNotice, nullptr);
  const char* host = PQhost(conn.get());
  std::string name = "postgresql database " + std::string(PQdb(conn.get())) + " on " +
                     (host != nullptr ? host : "") + ":" + PQport(conn.get());
  return std::unique_ptr<Database>(
      std::make_unique<PostgresDatabase>(std::move(conn), std::move(name)));
}

Status MigratePostgres(Database& db, std::string_view kind, std::span<const Migration> migrations) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  Transaction tx(db);
  IOCGRID_RETURN_IF_ERROR(tx.Begin());  // the writers' lock: one instance migrates at a time
  IOCGRID_ASSIGN_OR_RETURN(
      int64_t versioned,
      db.QueryInt("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                  "current_schema() AND table_name = 'iocgrid_schema'"));
  if (versioned == 0) {
    IOCGRID_ASSIGN_OR_RETURN(int64_t tables,
                             db.QueryInt("SELECT count(*) FROM information_schema.tables WHERE "
                                         "table_schema = current_schema()"));
    if (tables != 0) {
      return InvalidArgumentError(db.name() + " already holds tables but no iocgrid " +
                                  std::string(kind) +
                                  "; give the portal an empty database (or schema) of its own");
    }
    IOCGRID_RETURN_IF_ERROR(
        db.Exec("CREATE TABLE iocgrid_schema(kind TEXT PRIMARY KEY, version BIGINT NOT NULL)"));
  }
  IOCGRID_ASSIGN_OR_RETURN(Statement get,
                           db.Prepare("SELECT version FROM iocgrid_schema WHERE kind = ?"));
  get.BindText(1, kind);
  IOCGRID_ASSIGN_OR_RETURN(bool found, get.Step());
  const int64_t version = found ? get.Int(0) : 0;
  if (version > latest) return sqlite::NewerSchemaError(db.name(), kind, version, latest);
  for (const Migration& m : migrations) {
    if (m.version <= version) continue;
    Status applied = db.Exec(m.sql);
    if (!applied.ok()) {
      return applied.WithContext(std::string(kind) + " migration to version " +
                                 std::to_string(m.version));
    }
  }
  if (version < latest) {
    IOCGRID_ASSIGN_OR_RETURN(
        Statement put,
        db.Prepare("INSERT INTO iocgrid_schema(kind, version) VALUES(?, ?) ON CONFLICT(kind) DO "
                   "UPDATE SET version = excluded.version"));
    put.BindText(1, kind).Bind(2, latest);
    IOCGRID_RETURN_IF_ERROR(put.Run());
  }
  return tx.Commit();
}

}  // namespace iocgrid::sql
