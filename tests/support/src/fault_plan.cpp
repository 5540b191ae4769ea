#include <sidecar/testing/fault_plan.hpp>

#include <algorithm>

namespace sidecar::testing {

void fault_plan::fail_next(std::string prefix, int count, unsigned status, std::string message) {
  if (count > 0)
    counted_.push_back({std::move(prefix), count, status, std::move(message), std::nullopt});
}

void fault_plan::set_delay(std::string prefix, std::chrono::milliseconds delay) {
  std::erase_if(delays_, [&](const auto& d) { return d.first == prefix; });
  if (delay.count() > 0) delays_.emplace_back(std::move(prefix), delay);
}

void fault_plan::drop_next(std::string prefix, int count) {
  if (count > 0) counted_.push_back({std::move(prefix), count, 0, {}, std::nullopt});
}

void fault_plan::corrupt_next(std::string prefix, int count, corruption mode) {
  if (count > 0) counted_.push_back({std::move(prefix), count, 0, {}, mode});
}

void fault_plan::fail_for(std::string prefix, std::chrono::milliseconds window, unsigned status,
                          std::string message,
                          std::vector<std::pair<std::string, std::string>> headers) {
  auto reply = error_reply(status, message.empty() ? std::vector<std::string>{}
                                                   : std::vector<std::string>{std::move(message)});
  reply.headers = std::move(headers);
  windows_.push_back(
      {std::move(prefix), std::chrono::steady_clock::now() + window, std::move(reply)});
}

void fault_plan::clear() {
  windows_.clear();
  counted_.clear();
  delays_.clear();
}

fault_decision fault_plan::take(std::string_view path) {
  fault_decision decision;
  for (const auto& [prefix, delay] : delays_) {
    if (path.starts_with(prefix)) decision.delay = std::max(decision.delay, delay);
  }
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(windows_, [now](const windowed& w) { return w.until <= now; });
  const auto window = std::find_if(windows_.begin(), windows_.end(),
                                   [&](const windowed& w) { return path.starts_with(w.prefix); });
  if (window != windows_.end()) {
    decision.fail = window->reply;
    return decision;
  }
  const auto match = std::find_if(counted_.begin(), counted_.end(),
                                  [&](const counted& c) { return path.starts_with(c.prefix); });
  if (match == counted_.end()) return decision;
  if (match->mode) {
    decision.corrupt = match->mode;
  } else if (match->status == 0) {
    decision.drop = true;
  } else {
    decision.fail = error_reply(match->status, match->message.empty()
                                                   ? std::vector<std::string>{}
                                                   : std::vector<std::string>{match->message});
  }
  if (--match->left == 0) counted_.erase(match);
  return decision;
}

}  // namespace sidecar::testing
