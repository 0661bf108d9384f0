#include <future>
#include <string>
#include <utility>

#include "federation/internal/dto.h"
#include "federation/internal/federation_impl.h"

namespace iocgrid::federation::internal {

namespace {

// `portal members check`'s words for a mirroring node's state.
std::string MirrorSummary(const GridStats& stats) {
  if (stats.mirror_source.empty()) return "";
  std::string out = "mirror of " + stats.mirror_source + ", ";
  out += stats.mirror_lag_seconds < 0 ? "not caught up yet"
                                      : std::to_string(stats.mirror_lag_seconds) + " s behind";
  if (!stats.mirror_error.empty()) out += "; last sweep failed: " + stats.mirror_error;
  return out;
}

}  // namespace

MemberProbe FederationImpl::Probe(const std::string& member) {
  MemberProbe probe;
  probe.member = member;
  MemberState* m = Find(member);
  if (m == nullptr) {
    probe.error = "unknown member";
    return probe;
  }
  if (dispatcher_->OnDispatcherThread()) {
    probe.error = "Probe called from a federation callback";
    return probe;
  }
  std::promise<void> finished;
  auto fut = finished.get_future();
  auto owner = std::make_shared<Owner>();
  Clock::time_point start = Clock::now();
  owner->deadline = start + m->config.timeout;
  dispatcher_->Post([this, m, owner, &probe, &finished, start] {
    Send(
        owner, m, owner.get(), MakeRequest(*m, "GET", "/servers/getVersion", ""),
        [this, m, owner, &probe, &finished, start](Result<ClientResponse> r) {
          probe.latency_ms = MillisSince(start);
          if (!r.ok()) {
            probe.error = std::string(r.status().message());
            return finished.set_value();
          }
          auto version = internal::ParseVersion(r->body);
          if (!version.ok()) {
            probe.error = std::string(version.status().message());
            return finished.set_value();
          }
          probe.version = *version;
          if (m->config.kind != MemberKind::kIocgrid) {
            probe.ok = true;
            return finished.set_value();
          }
          Send(
              owner, m, owner.get(), MakeRequest(*m, "GET", "/grid/v1/stats", ""),
              [this, m, owner, &probe, &finished](Result<ClientResponse> sr) {
                if (!sr.ok()) {
                  probe.error = std::string(sr.status().message());
                  return finished.set_value();
                }
                auto stats = internal::ParseGridStats(sr->body);
                if (!stats.ok()) {
                  probe.error = std::string(stats.status().message());
                  return finished.set_value();
                }
                probe.attributes = stats->attributes;
                probe.first_date = stats->first_date;
                probe.last_date = stats->last_date;
                probe.mirror = MirrorSummary(*stats);
                if (m->config.disclosure != Disclosure::kPrivate) {
                  probe.ok = true;
                  return finished.set_value();
                }
                ProbePrivate(m, owner, &probe, &finished);
              },
              0);
        },
        0);
  });
  fut.get();
  return probe;
}

void FederationImpl::ProbePrivate(MemberState* m, const std::shared_ptr<Owner>& owner,
                                  MemberProbe* probe, std::promise<void>* finished) {
  Send(
      owner, m, owner.get(), MakeRequest(*m, "GET", "/grid/v1/psi/info", ""),
      [m, owner, probe, finished](Result<ClientResponse> r) {
        if (!r.ok()) {
          probe->error = "private search: " + std::string(r.status().message());
          return finished->set_value();
        }
        auto info = internal::ParsePsiInfo(r->body);
        if (!info.ok()) {
          probe->error = "private search: " + std::string(info.status().message());
          return finished->set_value();
        }
        const PsiMode mode = m->config.psi_mode;
        if (!info->Offers(mode)) {
          probe->error =
              "private search: the member does not offer mode " + std::string(PsiModeName(mode));
          return finished->set_value();
        }
        probe->privacy = std::string(PsiModeName(mode)) + ", key epoch " +
                         std::to_string(info->epoch) + ", " + std::to_string(info->tags) +
                         " tags, " + (info->ready ? "ready" : "catching up") + ", labels " +
                         (info->label_context.empty() ? "?" : info->label_context) + ", " +
                         std::to_string(info->evaluations_left_today) + " evaluations left today";
        probe->ok = true;
        finished->set_value();
      },
      0);
}

std::vector<MemberBreaker> FederationImpl::Breakers() {
  std::vector<MemberBreaker> out;
  if (dispatcher_->OnDispatcherThread()) return out;
  std::promise<void> finished;
  auto fut = finished.get_future();
  // Breaker fields are touched only on the dispatcher thread: read them there.
  dispatcher_->Post([this, &out, &finished] {
    Clock::time_point now = Clock::now();
    for (const auto& m : members_) {
      MemberBreaker b;
      b.member = m->config.name;
      b.consecutive_failures = m->consecutive_failures;
      if (m->open && now < m->open_until && !m->trial_running) {
        b.state = BreakerState::kOpen;
        b.retry_in_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(m->open_until - now).count();
      } else if (m->open) {
        b.state = BreakerState::kHalfOpen;
      }
      out.push_back(std::move(b));
    }
    finished.set_value();
  });
  fut.get();
  return out;
}

}  // namespace iocgrid::federation::internal
