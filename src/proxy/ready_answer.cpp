#include <sidecar/proxy/ready_answer.hpp>

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <stdexcept>

namespace sidecar::proxy {
namespace {

namespace http = boost::beast::http;

void append_number(std::string& out, std::size_t value) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
  out.append(digits.data(), end);
}

}  // namespace

ready_answer::ready_answer(unsigned status, std::shared_ptr<const void> owner,
                           std::string_view fields, std::string_view body) noexcept
    : status_{status}, owner_{std::move(owner)}, fields_{fields}, body_{body} {}

void ready_answer::add_field(std::string_view name, std::string_view value) {
  const std::size_t size = name.size() + 2 + value.size() + 2;
  if (extra_size_ + size > extra_.size()) {
    throw std::length_error("ready_answer: per-request header lines exceed the inline space");
  }
  char* at = extra_.data() + extra_size_;
  at = name.copy(at, name.size()) + at;
  *at++ = ':';
  *at++ = ' ';
  at = value.copy(at, value.size()) + at;
  *at++ = '\r';
  *at = '\n';
  extra_size_ += size;
}

std::string_view ready_answer::added_field(std::string_view name) const noexcept {
  std::string_view lines{extra_.data(), extra_size_};
  while (!lines.empty()) {
    const auto end = lines.find("\r\n");
    const auto line = lines.substr(0, end);
    lines.remove_prefix(end + 2);
    if (line.size() > name.size() + 1 && line.starts_with(name) && line[name.size()] == ':') {
      return line.substr(name.size() + 2);
    }
  }
  return {};
}

void ready_answer::serialise_head(std::string& out, unsigned version, bool keep_alive) const {
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, status_);
  out += ' ';
  out += http::obsolete_reason(static_cast<http::status>(status_));
  out += "\r\n";
  out += fields_;
  out.append(extra_.data(), extra_size_);
  // Beast's keep_alive(): HTTP/1.1 says "close" when not keeping alive, HTTP/1.0 "keep-alive"
  // when it does; the other two cases need no Connection line.
  if (version == 11 && !keep_alive) out += "Connection: close\r\n";
  if (version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
  // As the session sets it on every Beast answer: nothing the sidecar serves may be stored.
  out += "Cache-Control: no-store\r\n";
  out += "Content-Length: ";
  append_number(out, body_.size());
  out += "\r\n\r\n";
}

}  // namespace sidecar::proxy
