#include "billctl/net/http.hpp"

#include <curl/curl.h>

#include <cstring>
#include <exception>
#include <mutex>

namespace billctl::net {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t header_line(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* retry = static_cast<long*>(user);
  if (line.size() > 12 && strncasecmp(line.c_str(), "retry-after:", 12) == 0) {
    try {
      *retry = std::stol(line.substr(12));
    } catch (...) {
      // an HTTP date: ignore and use our own backoff
    }
  }
  return size * n;
}

struct Reader {
  const std::string* data;
  size_t pos = 0;
};

size_t feed(char* out, size_t size, size_t n, void* user) {
  auto* r = static_cast<Reader*>(user);
  const size_t len = std::min(size * n, r->data->size() - r->pos);
  std::memcpy(out, r->data->data() + r->pos, len);
  r->pos += len;
  return len;
}

}  // namespace


std::string url_encode(std::string_view s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

namespace {

// Where a streamed response's body goes: to the caller once the status is known to be 2xx, else
// into the response (an error message).
struct StreamSink {
  CURL* curl;
  HttpResponse* res;
  const std::function<void(std::string_view)>* fn;
  std::exception_ptr error;
};

size_t stream_body(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamSink*>(user);
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    s->res->body.append(data, size * n);
    return size * n;
  }
  try {
    (*s->fn)(std::string_view(data, size * n));
  } catch (...) {
    s->error = std::current_exception();
    return 0;  // aborts the transfer; the error is rethrown after it
  }
  return size * n;
}

HttpResponse perform(const HttpRequest& r, bool post, const std::function<void(std::string_view)>* stream = nullptr) {
  global_init();
  HttpResponse res;
  CURL* c = curl_easy_init();
  if (!c) {
    res.error = "cannot initialise libcurl";
    return res;
  }
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : r.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  if (post) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(r.body.size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(r.timeout_ms, 5000L));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "billctl/0.1.0");
  if (!r.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, r.ca_file.c_str());
  StreamSink sink{c, &res, stream, nullptr};
  if (stream) {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  } else {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &res.body);
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_line);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &res.retry_after_s);
  if (!r.basic_user.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, r.basic_user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, r.basic_password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) res.error = curl_easy_strerror(rc);
  else curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (sink.error) std::rethrow_exception(sink.error);
  return res;
}

}  // namespace

HttpResponse CurlHttpClient::post(const HttpRequest& r) { return perform(r, true); }
HttpResponse CurlHttpClient::get(const HttpRequest& r) { return perform(r, false); }
HttpResponse CurlHttpClient::post_stream(const HttpRequest& r, const std::function<void(std::string_view)>& on_body) {
  return perform(r, true, &on_body);
}

std::string CurlMailSender::send(const MailMessage& m) {
  global_init();
  CURL* c = curl_easy_init();
  if (!c) return "cannot initialise libcurl";
  curl_slist* rcpt = nullptr;
  for (const auto& t : m.to) rcpt = curl_slist_append(rcpt, ("<" + t + ">").c_str());
  Reader reader{&m.data};
  curl_easy_setopt(c, CURLOPT_URL, m.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, ("<" + m.from + ">").c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
  curl_easy_setopt(c, CURLOPT_READDATA, &reader);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, m.timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  // smtp:// upgrades with STARTTLS; required unless the channel says otherwise (local relays).
  curl_easy_setopt(c, CURLOPT_USE_SSL, m.require_tls ? long(CURLUSESSL_ALL) : long(CURLUSESSL_TRY));
  if (!m.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, m.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, m.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  std::string err;
  if (rc != CURLE_OK) err = curl_easy_strerror(rc);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  return err;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  auto enc = [](const std::string& s) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
      if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
          ch == '.' || ch == '~') {
        out += char(ch);
      } else if (ch == ' ') {
        out += '+';
      } else {
        out += '%';
        out += k_hex[ch >> 4];
        out += k_hex[ch & 15];
      }
    }
    return out;
  };
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += enc(k) + "=" + enc(v);
  }
  return out;
}

}  // namespace billctl::net
