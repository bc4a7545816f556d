#include "billctl/serve/auth.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "billctl/util/error.hpp"
#include "billctl/util/io.hpp"

namespace billctl::serve {

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string read(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    throw DataError(path + " holds a private key and must not be readable by others (chmod 600 " + path + ")");
  return util::read_file(path);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += char(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

TokenReply oauth_error(int status, const std::string& error, const std::string& description) {
  TokenReply r;
  r.status = status;
  r.body = Json{{"error", error}, {"error_description", description}};
  if (status == 401) r.www_authenticate = "Basic realm=\"billctl\"";
  return r;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    std::string_view part(body.data() + start, (amp == std::string::npos ? body.size() : amp) - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      auto k = percent_decode(part.substr(0, eq));
      auto v = percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
      if (!k || !v) return std::nullopt;
      out.emplace_back(*k, *v);
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

KeyRing KeyRing::open(const std::string& dir, util::Seconds now) {
  KeyRing r;
  r.m_dir = dir;
  util::make_dirs(dir);
  ::chmod(dir.c_str(), 0700);
  const std::string current = dir + "/current.pem", previous = dir + "/previous.pem";
  if (!exists(current)) {
    r.m_current = RsaKey::generate();
    r.save();
    return r;
  }
  r.m_current = RsaKey::from_pem(read(current), current);
  if (!r.m_current.has_private()) throw DataError(current + ": not a private key");
  if (exists(previous)) {
    r.m_previous = RsaKey::from_pem(read(previous), previous);
    std::ifstream meta(dir + "/retired_at");
    meta >> r.m_retired_at;
  }
  (void)now;
  return r;
}

void KeyRing::rotate(util::Seconds now) {
  m_previous = std::move(m_current);
  m_retired_at = now;
  m_current = RsaKey::generate();
  save();
}

void KeyRing::save() const {
  // The new current key is written last, so a crash in between leaves the old one signing.
  if (m_previous) {
    util::write_file_atomic(m_dir + "/previous.pem", m_previous->private_pem(), 0600);
    util::write_file_atomic(m_dir + "/retired_at", std::to_string(m_retired_at) + "\n", 0600);
  }
  util::write_file_atomic(m_dir + "/current.pem", m_current.private_pem(), 0600);
}

Json KeyRing::jwks() const {
  Json keys = Json::array({m_current.public_jwk()});
  if (m_previous) keys.push_back(m_previous->public_jwk());
  return Json{{"keys", keys}};
}

Authority::Authority(AccessStore& access, const KeyRing& keys, std::string issuer, std::string audience, int64_t token_ttl)
    : m_access(access), m_keys(keys), m_issuer(std::move(issuer)), m_audience(std::move(audience)), m_ttl(token_ttl) {}

void Authority::trust(const ExternalIssuer& e, net::HttpClient* http) {
  auto ext = std::make_unique<External>();
  ext->config = e;
  std::string text;
  const std::string origin = e.jwks_url.empty() ? e.jwks_file : e.jwks_url;
  if (e.jwks_url.empty()) {
    text = util::read_file(e.jwks_file);
  } else {
    if (!http) throw DataError("issuer " + e.name + ": no HTTP client to fetch " + e.jwks_url);
    net::HttpRequest r;
    r.url = e.jwks_url;
    net::HttpResponse res = http->get(r);
    if (!res.ok())
      throw DataError("issuer " + e.name + ": cannot fetch " + e.jwks_url + ": " +
                      (res.error.empty() ? "HTTP " + std::to_string(res.status) : res.error));
    text = res.body;
  }
  Json jwks = Json::parse(text, nullptr, false);
  if (jwks.is_discarded() || !jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array())
    throw DataError(origin + ": not a JWKS document ({\"keys\": [...]})");
  ext->issuer.name = e.name;
  ext->issuer.iss = e.iss;
  ext->issuer.audience = e.audience;
  for (const auto& k : jwks["keys"]) {
    if (k.value("use", "sig") != "sig" || k.value("kty", "") != "RSA") continue;
    auto key = std::make_unique<RsaKey>(RsaKey::from_jwk(k, origin));
    std::string kid = k.value("kid", key->kid());
    ext->issuer.keys[kid] = TrustedKey{key.get(), 0};
    ext->keys.push_back(std::move(key));
  }
  if (ext->keys.empty()) throw DataError(origin + ": no RSA signing keys");
  m_external.push_back(std::move(ext));
}

TokenReply Authority::token(const std::string& form_body, const std::string& authorization, util::Seconds now) {
  auto form = parse_form(form_body);
  if (!form) return oauth_error(400, "invalid_request", "the body is not application/x-www-form-urlencoded");
  auto field = [&](const char* name) -> std::optional<std::string> {
    std::optional<std::string> v;
    for (const auto& [k, val] : *form)
      if (k == name) {
        if (v) return std::string("\x01");  // repeated: invalid (RFC 6749 §3.1)
        v = val;
      }
    return v;
  };
  for (const char* name : {"grant_type", "client_id", "client_secret", "scope"})
    if (field(name) == std::string("\x01"))
      return oauth_error(400, "invalid_request", fmt::format("parameter {} is given more than once", name));
  auto grant = field("grant_type");
  if (!grant) return oauth_error(400, "invalid_request", "grant_type is missing");
  if (*grant != "client_credentials")
    return oauth_error(400, "unsupported_grant_type", "only the client_credentials grant is supported");
  std::string id, secret;
  bool basic = authorization.rfind("Basic ", 0) == 0;
  if (basic) {
    std::string b64 = authorization.substr(6);
    std::replace(b64.begin(), b64.end(), '+', '-');
    std::replace(b64.begin(), b64.end(), '/', '_');
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    auto decoded = base64url_decode(b64);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return oauth_error(401, "invalid_client", "malformed Basic credentials");
    auto i = percent_decode(decoded->substr(0, colon)), s = percent_decode(decoded->substr(colon + 1));
    if (!i || !s) return oauth_error(401, "invalid_client", "malformed Basic credentials");
    id = *i;
    secret = *s;
    if (field("client_secret")) return oauth_error(400, "invalid_request", "credentials in both the header and the body");
  } else {
    id = field("client_id").value_or("");
    secret = field("client_secret").value_or("");
  }
  if (id.empty() || secret.empty()) return oauth_error(401, "invalid_client", "client authentication is missing");
  auto client = m_access.find_client(id);
  // The same answer for an unknown client and a wrong secret, so that names cannot be probed.
  if (!client || !check_secret(secret, client->secret_hash)) {
    TokenReply r = oauth_error(401, "invalid_client", "unknown client or wrong secret");
    r.client = id;
    return r;
  }
  std::vector<std::string> granted = words(client->scope);
  std::vector<std::string> scope = granted;
  if (auto asked = field("scope")) {
    scope = words(*asked);
    for (const auto& s : scope)
      if (std::find(granted.begin(), granted.end(), s) == granted.end())
        return oauth_error(400, "invalid_scope", "scope " + s + " is not granted to this client");
  }
  std::string scope_text;
  for (const auto& s : scope) scope_text += (scope_text.empty() ? "" : " ") + s;
  Json claims;
  claims["iss"] = m_issuer;
  claims["aud"] = m_audience;
  claims["sub"] = client->name;
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = now + m_ttl;
  claims["jti"] = random_hex(16);
  claims["org"] = client->organization;
  claims["role"] = std::string(role_name(client->role));
  claims["scope"] = scope_text;
  TokenReply r;
  r.client = client->name;
  r.body = Json{{"access_token", sign_token(m_keys.current(), claims)},
                {"token_type", "Bearer"},
                {"expires_in", m_ttl},
                {"scope", scope_text}};
  return r;
}

Caller Authority::authenticate(const std::string& authorization, util::Seconds now) const {
  if (authorization.empty()) throw TokenError("no bearer token (Authorization: Bearer TOKEN)");
  if (authorization.size() < 7 || authorization.compare(0, 7, "Bearer ") != 0)
    throw TokenError("the Authorization header is not a bearer token");
  const std::string token = authorization.substr(7);
  Issuer own;
  own.name = "billctl";
  own.iss = m_issuer;
  own.audience = m_audience;
  own.keys[m_keys.current().kid()] = TrustedKey{&m_keys.current(), 0};
  if (const RsaKey* prev = m_keys.previous()) own.keys[prev->kid()] = TrustedKey{prev, m_keys.retired_at() + m_ttl};
  std::vector<const Issuer*> issuers{&own};
  for (const auto& e : m_external) issuers.push_back(&e->issuer);
  Json claims = verify_token(token, issuers, now);
  std::string org_claim = "org", role_claim = "role";
  for (const auto& e : m_external)
    if (e->config.iss == claims["iss"].get<std::string>() && e->config.iss != m_issuer) {
      org_claim = e->config.org_claim;
      role_claim = e->config.role_claim;
    }
  Caller c;
  c.subject = claims.value("sub", "");
  if (!claims.contains(org_claim) || !claims[org_claim].is_string() || claims[org_claim].get<std::string>().empty())
    throw TokenError("the token names no organization (" + org_claim + ")");
  c.organization = claims[org_claim].get<std::string>();
  auto role = claims.contains(role_claim) && claims[role_claim].is_string() ? find_role(claims[role_claim].get<std::string>())
                                                                             : std::nullopt;
  if (!role) throw TokenError("the token names no known role (" + role_claim + ")");
  c.role = *role;
  if (c.subject.empty()) throw TokenError("the token has no subject (sub)");
  std::vector<std::string> scope = words(claims.value("scope", ""));
  c.can_read = std::find(scope.begin(), scope.end(), "billing:read") != scope.end();
  c.can_write = std::find(scope.begin(), scope.end(), "billing:write") != scope.end();
  return c;
}

}  // namespace billctl::serve
