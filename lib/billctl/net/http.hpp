// Outbound HTTP and SMTP over libcurl. The domain talks to the HttpClient / MailSender
// interfaces so tests can record requests; only this folder includes curl.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billctl::net {

struct HttpRequest {
  std::string url;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string basic_user, basic_password;                     // HTTP basic auth when user is set
  long timeout_ms = 10000;
  std::string ca_file;  // trust this PEM bundle for HTTPS instead of the system's
};

struct HttpResponse {
  long status = 0;          // 0 when no response arrived
  std::string body;
  std::string error;        // transport error (timeout, refused connection), empty otherwise
  long retry_after_s = -1;  // Retry-After in seconds, when given
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse post(const HttpRequest& r) = 0;
  // A GET of r.url (the body is ignored).
  virtual HttpResponse get(const HttpRequest& r) = 0;
  // A POST whose successful (2xx) body is handed to `on_body` piece by piece as it arrives, for
  // results larger than memory; the response's body then holds only an error body. The default
  // reads the whole body first.
  virtual HttpResponse post_stream(const HttpRequest& r, const std::function<void(std::string_view)>& on_body) {
    HttpResponse res = post(r);
    if (res.ok()) {
      on_body(res.body);
      res.body.clear();
    }
    return res;
  }
};

struct MailMessage {
  std::string smtp_url;  // smtp://host:587 (STARTTLS) or smtps://host:465
  bool require_tls = true;
  std::string username, password;
  std::string from;
  std::vector<std::string> to;
  std::string data;  // RFC 5322 message: headers, blank line, body (CRLF line ends)
  long timeout_ms = 10000;
};

class MailSender {
 public:
  virtual ~MailSender() = default;
  // Empty on success, else what went wrong.
  virtual std::string send(const MailMessage& m) = 0;
};

// The libcurl implementations.
class CurlHttpClient : public HttpClient {
 public:
  HttpResponse post(const HttpRequest& r) override;
  HttpResponse get(const HttpRequest& r) override;
  HttpResponse post_stream(const HttpRequest& r, const std::function<void(std::string_view)>& on_body) override;
};

// Percent-encoding of one query-string value.
std::string url_encode(std::string_view s);

class CurlMailSender : public MailSender {
 public:
  std::string send(const MailMessage& m) override;
};

// Percent-encoding for application/x-www-form-urlencoded bodies.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace billctl::net
