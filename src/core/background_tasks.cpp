#include <sidecar/core/background_tasks.hpp>

#include <sidecar/core/text.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <exception>

namespace sidecar::core {

background_tasks::background_tasks(net::any_io_executor executor,
                                   std::shared_ptr<spdlog::logger> log)
    : executor_{std::move(executor)}, log_{std::move(log)} {}

void background_tasks::spawn(const char* name, net::awaitable<void> task) {
  auto& signal = *signals_.emplace_back(std::make_unique<net::cancellation_signal>());
  net::co_spawn(executor_, std::move(task),
                net::bind_cancellation_slot(
                    signal.slot(), [name, log = log_](const std::exception_ptr& failure) {
                      if (!failure) return;
                      log->error("{} failed: {}", name, core::exception_text(failure));
                    }));
}

void background_tasks::cancel_all() {
  for (auto& signal : signals_) signal->emit(net::cancellation_type::terminal);
}

}  // namespace sidecar::core
