// Building a MatchIndex: adding indicators to its structures (MatchIndex::Impl::Add) and the
// Builder that finishes them. The structures: internal/match_index_impl.h.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "index/internal/match_index_impl.h"
#include "index/match_index.h"

namespace iocgrid::index {

void MatchIndex::Impl::AddIp(std::string_view text, uint32_t entry) {
  ParsedIp ip;
  // Values come normalized (REQUIRES of Add); a value that is no IP has nothing to range-match.
  if (!ParseIpText(text, &ip)) return;
  if (ip.v6) {
    if (ip.is_address()) {
      v6.AddAddress(ip.a6, entry);
    } else {
      v6.AddNetwork(internal::NetworkStart(ip.a6, ip.prefix), ip.prefix, entry);
    }
  } else if (ip.is_address()) {
    v4.AddAddress(ip.v4, entry);
  } else {
    v4.AddNetwork(internal::NetworkStart(ip.v4, ip.prefix), ip.prefix, entry);
  }
}

// kResourceExhausted when one more entry with a value of `value_size` bytes does not fit.
Status MatchIndex::Impl::CheckRoom(size_t value_size, size_t max_entries) const {
  if (entries.size() >= max_entries) {
    return ResourceExhaustedError("the match index is full: it holds at most " +
                                  std::to_string(max_entries) +
                                  " indicators; split the data over several nodes or data files");
  }
  if (value_size > std::numeric_limits<uint32_t>::max() ||
      arena.size() + value_size > kOffsetMask) {
    return ResourceExhaustedError(
        "the match index is full: its values may take at most 1 TiB; split the data over "
        "several nodes or data files");
  }
  return Status::Ok();
}

Status MatchIndex::Impl::Add(const core::Indicator& indicator, RecordId record,
                             size_t max_entries) {
  IOCGRID_RETURN_IF_ERROR(CheckRoom(indicator.value.size(), max_entries));
  const uint64_t offset = arena.size();
  const auto entry = static_cast<uint32_t>(entries.size());
  const TypeInfo& info = (*types)[static_cast<size_t>(indicator.type)];
  const std::string_view value = indicator.value;

  core::Component parts[2];
  uint32_t split = kNoSplit;
  if (info.composite && core::Components(indicator, parts) == 2) {
    // Halves are indexed only when they tile the value as "left|right" (as core::Components
    // makes them) and the left one fits the 16-bit split field, so that verification can find
    // them again from the entry alone.
    size_t left_len = parts[0].value.size();
    if (parts[0].value.data() == value.data() && left_len < kNoSplit &&
        parts[1].value.data() == value.data() + left_len + 1 &&
        left_len + 1 + parts[1].value.size() == value.size()) {
      split = static_cast<uint32_t>(left_len);
    }
  }
  entries.push_back(Entry{offset | (uint64_t{static_cast<uint8_t>(indicator.type)} << kTypeShift) |
                              (uint64_t{split} << kSplitShift),
                          static_cast<uint32_t>(value.size()), record});
  arena.insert(arena.end(), value.begin(), value.end());

  exact.Add(KeyHash(info.whole_tag, value), MakeRef(entry, kWholeKey));
  if (info.composite) {
    if (split == kNoSplit) return Status::Ok();
    std::string_view left = value.substr(0, split);
    std::string_view right = value.substr(split + 1);
    if (info.left_indexed) {
      exact.Add(KeyHash(info.left_tag, left), MakeRef(entry, kLeftKey));
      if (info.left_family == MatchFamily::kIp) AddIp(left, entry);
    }
    if (info.right_indexed) {
      exact.Add(KeyHash(info.right_tag, right), MakeRef(entry, kRightKey));
      if (info.right_family == MatchFamily::kIp) AddIp(right, entry);
    }
    return Status::Ok();
  }
  switch (core::FamilyOf(indicator.type)) {
    case MatchFamily::kIp:
      AddIp(value, entry);
      break;
    case MatchFamily::kUrl: {
      std::string_view host = core::UrlHost(value);
      if (host.empty()) break;
      ParsedIp ip;
      if (ParseIpText(host, &ip)) {
        if (!ip.is_address()) break;
        // The key is the canonical address text, which is what an IP query carries.
        core::IpNetwork net;
        net.v6 = ip.v6;
        net.prefix = ip.prefix;
        if (ip.v6) {
          for (int i = 0; i < 8; ++i) {
            net.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(ip.a6.hi >> (56 - 8 * i));
            net.bytes[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(ip.a6.lo >> (56 - 8 * i));
          }
          exact.Add(KeyHash(kIpTag, core::FormatIpNetwork(net)), MakeRef(entry, kUrlHostKey));
        } else {
          // A strict dotted quad is already canonical.
          exact.Add(KeyHash(kIpTag, host), MakeRef(entry, kUrlHostKey));
        }
      } else {
        exact.Add(KeyHash(kHostTag, host), MakeRef(entry, kUrlHostKey));
      }
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

// ---- Builder ----------------------------------------------------------------------------------

struct MatchIndex::Builder::Impl {
  MatchIndex::Impl data;
  size_t max_entries = kMaxEntries;
};

MatchIndex::Builder::Builder() : impl_(std::make_unique<Impl>()) {}
MatchIndex::Builder::~Builder() = default;
MatchIndex::Builder::Builder(Builder&&) noexcept = default;
MatchIndex::Builder& MatchIndex::Builder::operator=(Builder&&) noexcept = default;

void MatchIndex::Builder::Reserve(size_t indicators, size_t value_bytes) {
  impl_->data.entries.reserve(indicators);
  impl_->data.arena.reserve(value_bytes);
  // Most entries have one key; URLs two, composites three.
  impl_->data.exact.Reserve(indicators + indicators / 4);
}

Status MatchIndex::Builder::Add(const core::Indicator& indicator, RecordId record) {
  return impl_->data.Add(indicator, record, impl_->max_entries);
}

void MatchIndex::Builder::set_max_entries(size_t n) {
  impl_->max_entries = std::min(n, kMaxEntries);
}

size_t MatchIndex::Builder::size() const { return impl_->data.entries.size(); }

std::shared_ptr<const MatchIndex> MatchIndex::Builder::Build() {
  // The constructor is private, so make_shared cannot reach it; the shared_ptr owns at once.
  std::shared_ptr<MatchIndex> index(new MatchIndex());
  auto data = std::make_unique<MatchIndex::Impl>(std::move(impl_->data));
  const size_t max_entries = impl_->max_entries;
  impl_ = std::make_unique<Impl>();
  impl_->max_entries = max_entries;
  data->exact.Finish();
  data->v4.Finish();
  data->v6.Finish();
  data->entries.shrink_to_fit();
  data->arena.shrink_to_fit();
  index->impl_ = std::move(data);
  return index;
}

}  // namespace iocgrid::index
