// RS256 JSON Web Tokens (RFC 7519, RFC 7515) and RSA keys as JWKs (RFC 7517), on OpenSSL.
// Verification accepts RS256 only: "none", HMAC with the public key as secret, unknown key ids,
// tampered bytes, wrong issuer or audience and expired tokens are all refused.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "billctl/util/time.hpp"

namespace billctl::serve {

using Json = nlohmann::json;

std::string base64url_encode(std::string_view bytes);
// nullopt when `text` is not unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

// Why a token was refused; the message names the check, never the token.
class TokenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct KeyImpl;

// An RSA key: a private key signs, a public one (from a JWK or PEM) only verifies.
class RsaKey {
 public:
  RsaKey();
  ~RsaKey();
  RsaKey(RsaKey&&) noexcept;
  RsaKey& operator=(RsaKey&&) noexcept;
  // A new 2048-bit key.
  static RsaKey generate();
  // A private or public key in PEM; `origin` names it in errors (std::runtime_error).
  static RsaKey from_pem(const std::string& pem, const std::string& origin);
  // A public key from a JWK object {"kty":"RSA","n":...,"e":...}.
  static RsaKey from_jwk(const Json& jwk, const std::string& origin);
  bool has_private() const { return m_private; }
  std::string private_pem() const;
  // The public key as a JWK with use, alg and kid.
  Json public_jwk() const;
  // The RFC 7638 thumbprint of the public key (base64url of SHA-256): the key id.
  std::string kid() const;
  // RS256 signature of `data` (throws std::logic_error without the private key).
  std::string sign(std::string_view data) const;
  bool verify(std::string_view data, std::string_view signature) const;

 private:
  std::unique_ptr<KeyImpl> m;
  bool m_private = false;
};

// A compact JWS: header {"alg":"RS256","typ":"JWT","kid":...} and the claims, signed.
std::string sign_token(const RsaKey& key, const Json& claims);

// Keys a verifier trusts for one issuer, by kid; a key may have an end of validity (a rotated key
// whose tokens have not all expired).
struct TrustedKey {
  const RsaKey* key = nullptr;
  util::Seconds valid_until = 0;  // 0: no end
};

struct Issuer {
  std::string name;      // for messages
  std::string iss;       // the iss claim it must carry
  std::string audience;  // the aud claim must name it
  std::map<std::string, TrustedKey> keys;
};

// Checks a compact token against the issuers (matched by its iss claim), at `now` with
// `leeway` seconds for exp/nbf/iat; returns the claims. Throws TokenError.
Json verify_token(std::string_view token, const std::vector<const Issuer*>& issuers, util::Seconds now, int64_t leeway = 60);

// Random bytes from OpenSSL, as lowercase hex (2 * n characters).
std::string random_hex(size_t n);
// A client secret's stored form: "pbkdf2-sha256$ITER$SALT$HASH"; check() compares in constant time.
std::string hash_secret(const std::string& secret);
bool check_secret(const std::string& secret, const std::string& stored);

}  // namespace billctl::serve
