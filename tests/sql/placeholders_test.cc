#include "sql/internal/placeholders.h"

#include <gtest/gtest.h>

namespace iocgrid::sql::internal {
namespace {

TEST(PlaceholdersTest, SqliteNumberingBecomesDollars) {
  EXPECT_EQ(ToDollarPlaceholders("SELECT ? , ?"), "SELECT $1 , $2");
  EXPECT_EQ(ToDollarPlaceholders("WHERE a = ?1 AND b = ?2 OR c = ?1"),
            "WHERE a = $1 AND b = $2 OR c = $1");
  // A bare ? takes one more than the largest so far (SQLite's rule).
  EXPECT_EQ(ToDollarPlaceholders("VALUES(?, ?, ?5, ?)"), "VALUES($1, $2, $5, $6)");
  EXPECT_EQ(ToDollarPlaceholders("?::jsonb"), "$1::jsonb");
  EXPECT_EQ(ToDollarPlaceholders(""), "");
}

TEST(PlaceholdersTest, QuotedTextIsLeftAlone) {
  EXPECT_EQ(ToDollarPlaceholders("SELECT '?', \"a?\", ? WHERE x = 'it''s ?'"),
            "SELECT '?', \"a?\", $1 WHERE x = 'it''s ?'");
  EXPECT_EQ(ToDollarPlaceholders("SELECT 'unterminated ?"), "SELECT 'unterminated ?");
}

}  // namespace
}  // namespace iocgrid::sql::internal
