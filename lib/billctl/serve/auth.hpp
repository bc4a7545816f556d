// OAuth 2.0 for billctl serve: the server's signing keys (a directory of 0600 PEM files, with
// rotation), the client credentials grant (RFC 6749 §4.4) that issues RS256 JWTs, and the bearer
// token check that turns a request's Authorization header into a Caller.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "billctl/net/http.hpp"
#include "billctl/serve/access.hpp"
#include "billctl/serve/jwt.hpp"

namespace billctl::serve {

// The server's keys: current.pem signs; previous.pem (after a rotation) still verifies the tokens
// it signed until they expire (retired_at + the token lifetime). The directory is 0700, keys 0600.
class KeyRing {
 public:
  // Loads the keys in `dir`, creating the directory and a first key when there are none.
  static KeyRing open(const std::string& dir, util::Seconds now);
  // Makes a new current key; the current one becomes the previous (the older previous is dropped).
  void rotate(util::Seconds now);
  const RsaKey& current() const { return m_current; }
  const RsaKey* previous() const { return m_previous ? &*m_previous : nullptr; }
  util::Seconds retired_at() const { return m_retired_at; }
  const std::string& dir() const { return m_dir; }
  // {"keys": [current, previous]} public JWKs.
  Json jwks() const;

 private:
  void save() const;
  std::string m_dir;
  RsaKey m_current;
  std::optional<RsaKey> m_previous;
  util::Seconds m_retired_at = 0;
};

// An identity provider whose tokens the server also accepts: its keys from a JWKS file and the
// claims that carry the organization and the role.
struct ExternalIssuer {
  std::string name;
  std::string iss;
  std::string audience;
  std::string jwks_file;  // a JWKS document on disk, or
  std::string jwks_url;   // fetched once when the server starts
  std::string org_claim = "org";
  std::string role_claim = "role";
};

struct TokenReply {
  int status = 200;
  Json body;                     // the token response, or {"error": ..., "error_description": ...}
  std::string www_authenticate;  // for 401
  std::string client;            // the client that asked (for the access log), empty if unknown
};

class Authority {
 public:
  // `issuer` is the iss of the tokens the server issues, `audience` their aud.
  Authority(AccessStore& access, const KeyRing& keys, std::string issuer, std::string audience, int64_t token_ttl);
  // Trusts another issuer: loads its JWKS file, or fetches its JWKS URL through `http`. Throws
  // DataError naming the file or address.
  void trust(const ExternalIssuer& e, net::HttpClient* http = nullptr);
  // POST /oauth/token: an application/x-www-form-urlencoded body, credentials in it or in HTTP Basic.
  TokenReply token(const std::string& form_body, const std::string& authorization, util::Seconds now);
  // The caller of a request with "Authorization: Bearer TOKEN". Throws TokenError.
  Caller authenticate(const std::string& authorization, util::Seconds now) const;
  const std::string& issuer() const { return m_issuer; }
  // The public keys of the server's own tokens (/.well-known/jwks.json).
  Json jwks() const { return m_keys.jwks(); }

 private:
  AccessStore& m_access;
  const KeyRing& m_keys;
  std::string m_issuer, m_audience;
  int64_t m_ttl;
  struct External {
    ExternalIssuer config;
    std::vector<std::unique_ptr<RsaKey>> keys;
    Issuer issuer;
  };
  std::vector<std::unique_ptr<External>> m_external;
};

// Percent-decoded pairs of an application/x-www-form-urlencoded body (nullopt when malformed).
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(const std::string& body);

}  // namespace billctl::serve
