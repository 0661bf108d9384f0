// Test helper: net::Fetch for tests that expect the exchange to work.
#pragma once

#include <gtest/gtest.h>

#include "net/http_client.h"

namespace iocgrid::test {

// The response to `request`, or an empty one (status 0) after a test failure naming the error.
inline net::ClientResponse FetchOrFail(const net::ClientRequest& request) {
  auto r = net::Fetch(request);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : net::ClientResponse{};
}

}  // namespace iocgrid::test
