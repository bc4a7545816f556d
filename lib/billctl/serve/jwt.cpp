// OpenSSL 3 EVP for RS256 (RSASSA-PKCS1-v1_5 with SHA-256), JWK export/import, PBKDF2 secrets.
#include "billctl/serve/jwt.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <cstring>

namespace billctl::serve {

struct KeyImpl {
  EVP_PKEY* pkey = nullptr;
  ~KeyImpl() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr std::string_view k_b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct Bio {
  BIO* b;
  Bio() : b(BIO_new(BIO_s_mem())) {}
  explicit Bio(const std::string& s) : b(BIO_new_mem_buf(s.data(), int(s.size()))) {}
  ~Bio() { BIO_free(b); }
  std::string text() const {
    char* p = nullptr;
    long n = BIO_get_mem_data(b, &p);
    return std::string(p, size_t(n));
  }
};

std::string bn_bytes(const EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(k, name, &bn)) throw std::runtime_error("cannot read the RSA key");
  std::string out(size_t(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), n);
}

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

// The part of a token as JSON; TokenError names the part.
Json part_json(std::string_view part, const char* what) {
  auto bytes = base64url_decode(part);
  if (!bytes) throw TokenError(fmt::format("the token's {} is not base64url", what));
  Json j = Json::parse(*bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw TokenError(fmt::format("the token's {} is not a JSON object", what));
  return j;
}

bool audience_has(const Json& aud, const std::string& want) {
  if (aud.is_string()) return aud.get<std::string>() == want;
  if (aud.is_array())
    for (const auto& a : aud)
      if (a.is_string() && a.get<std::string>() == want) return true;
  return false;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += k_b64[v >> 18];
    out += k_b64[(v >> 12) & 63];
    out += k_b64[(v >> 6) & 63];
    out += k_b64[v & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    out += k_b64[v >> 18];
    out += k_b64[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += k_b64[v >> 18];
    out += k_b64[(v >> 12) & 63];
    out += k_b64[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    size_t v = k_b64.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (canonical encoding), so no two texts decode to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

RsaKey::RsaKey() : m(std::make_unique<KeyImpl>()) {}
RsaKey::~RsaKey() = default;
RsaKey::RsaKey(RsaKey&&) noexcept = default;
RsaKey& RsaKey::operator=(RsaKey&&) noexcept = default;

RsaKey RsaKey::generate() {
  RsaKey k;
  k.m->pkey = EVP_RSA_gen(2048);
  if (!k.m->pkey) throw std::runtime_error("cannot generate an RSA key");
  k.m_private = true;
  return k;
}

RsaKey RsaKey::from_pem(const std::string& pem, const std::string& origin) {
  RsaKey k;
  {
    Bio b(pem);
    k.m->pkey = PEM_read_bio_PrivateKey(b.b, nullptr, nullptr, nullptr);
  }
  k.m_private = k.m->pkey != nullptr;
  if (!k.m->pkey) {
    Bio b(pem);
    k.m->pkey = PEM_read_bio_PUBKEY(b.b, nullptr, nullptr, nullptr);
  }
  if (!k.m->pkey) throw std::runtime_error(origin + ": not a PEM key");
  if (EVP_PKEY_get_base_id(k.m->pkey) != EVP_PKEY_RSA) throw std::runtime_error(origin + ": not an RSA key");
  if (EVP_PKEY_get_bits(k.m->pkey) < 2048) throw std::runtime_error(origin + ": an RSA key of fewer than 2048 bits");
  return k;
}

RsaKey RsaKey::from_jwk(const Json& jwk, const std::string& origin) {
  if (!jwk.is_object() || jwk.value("kty", "") != "RSA" || !jwk.contains("n") || !jwk.contains("e") ||
      !jwk["n"].is_string() || !jwk["e"].is_string())
    throw std::runtime_error(origin + ": not an RSA JWK (kty RSA with n and e)");
  auto n = base64url_decode(jwk["n"].get<std::string>());
  auto e = base64url_decode(jwk["e"].get<std::string>());
  if (!n || !e) throw std::runtime_error(origin + ": n or e is not base64url");
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), int(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), int(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  RsaKey k;
  bool ok = ctx && EVP_PKEY_fromdata_init(ctx) > 0 && EVP_PKEY_fromdata(ctx, &k.m->pkey, EVP_PKEY_PUBLIC_KEY, params) > 0;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (!ok) throw std::runtime_error(origin + ": not a usable RSA public key");
  if (EVP_PKEY_get_bits(k.m->pkey) < 2048) throw std::runtime_error(origin + ": an RSA key of fewer than 2048 bits");
  return k;
}

std::string RsaKey::private_pem() const {
  Bio b;
  if (!m_private || !PEM_write_bio_PrivateKey(b.b, m->pkey, nullptr, nullptr, 0, nullptr, nullptr))
    throw std::logic_error("no private key to write");
  return b.text();
}

std::string RsaKey::kid() const {
  // RFC 7638: the members e, kty, n in lexicographic order, no whitespace.
  std::string canonical = fmt::format(R"({{"e":"{}","kty":"RSA","n":"{}"}})", base64url_encode(bn_bytes(m->pkey, OSSL_PKEY_PARAM_RSA_E)),
                                      base64url_encode(bn_bytes(m->pkey, OSSL_PKEY_PARAM_RSA_N)));
  return base64url_encode(sha256(canonical));
}

Json RsaKey::public_jwk() const {
  Json j;
  j["kty"] = "RSA";
  j["use"] = "sig";
  j["alg"] = "RS256";
  j["kid"] = kid();
  j["n"] = base64url_encode(bn_bytes(m->pkey, OSSL_PKEY_PARAM_RSA_N));
  j["e"] = base64url_encode(bn_bytes(m->pkey, OSSL_PKEY_PARAM_RSA_E));
  return j;
}

std::string RsaKey::sign(std::string_view data) const {
  if (!m_private) throw std::logic_error("signing needs the private key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, m->pkey) > 0 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) > 0;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size()) > 0;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("RS256 signing failed");
  return sig;
}

bool RsaKey::verify(std::string_view data, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, m->pkey) > 0 &&
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string sign_token(const RsaKey& key, const Json& claims) {
  Json header;
  header["alg"] = "RS256";
  header["typ"] = "JWT";
  header["kid"] = key.kid();
  std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  return input + "." + base64url_encode(key.sign(input));
}

Json verify_token(std::string_view token, const std::vector<const Issuer*>& issuers, util::Seconds now, int64_t leeway) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
    throw TokenError("the token is not a compact JWS (three parts)");
  Json header = part_json(token.substr(0, a), "header");
  if (!header.contains("alg") || !header["alg"].is_string()) throw TokenError("the token's header has no alg");
  if (header["alg"] != "RS256") throw TokenError(fmt::format("alg {} is not accepted (RS256 only)", header["alg"].dump()));
  if (header.contains("crit")) throw TokenError("the token's header has critical extensions");
  Json claims = part_json(token.substr(a + 1, b - a - 1), "payload");
  if (!claims.contains("iss") || !claims["iss"].is_string()) throw TokenError("the token has no issuer (iss)");
  const Issuer* issuer = nullptr;
  for (const Issuer* i : issuers)
    if (i->iss == claims["iss"].get<std::string>()) issuer = i;
  if (!issuer) throw TokenError("the token's issuer is not trusted");
  if (!header.contains("kid") || !header["kid"].is_string()) throw TokenError("the token's header has no key id (kid)");
  auto key = issuer->keys.find(header["kid"].get<std::string>());
  if (key == issuer->keys.end()) throw TokenError("the token's key id is unknown to issuer " + issuer->name);
  auto sig = base64url_decode(token.substr(b + 1));
  if (!sig || !key->second.key->verify(token.substr(0, b), *sig)) throw TokenError("the token's signature does not verify");
  if (key->second.valid_until && now > key->second.valid_until + leeway)
    throw TokenError("the token was signed with a key retired since");
  auto time_claim = [&](const char* name) -> std::optional<int64_t> {
    if (!claims.contains(name)) return std::nullopt;
    if (!claims[name].is_number()) throw TokenError(fmt::format("the token's {} is not a number", name));
    return claims[name].get<int64_t>();
  };
  auto exp = time_claim("exp");
  if (!exp) throw TokenError("the token has no expiry (exp)");
  if (now > *exp + leeway) throw TokenError("the token has expired");
  if (auto nbf = time_claim("nbf"); nbf && now + leeway < *nbf) throw TokenError("the token is not valid yet (nbf)");
  if (auto iat = time_claim("iat"); iat && now + leeway < *iat) throw TokenError("the token was issued in the future (iat)");
  if (!claims.contains("aud") || !audience_has(claims["aud"], issuer->audience))
    throw TokenError("the token is for another audience (aud)");
  return claims;
}

std::string random_hex(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), int(n)) != 1) throw std::runtime_error("no random bytes");
  return hex(bytes);
}

namespace {
constexpr int k_pbkdf2_iterations = 20000;

std::string pbkdf2(const std::string& secret, const std::string& salt, int iterations) {
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC(secret.data(), int(secret.size()), reinterpret_cast<const unsigned char*>(salt.data()), int(salt.size()),
                    iterations, EVP_sha256(), sizeof out, out);
  return hex(std::string_view(reinterpret_cast<char*>(out), sizeof out));
}
}  // namespace

std::string hash_secret(const std::string& secret) {
  std::string salt = random_hex(16);
  return fmt::format("pbkdf2-sha256${}${}${}", k_pbkdf2_iterations, salt, pbkdf2(secret, salt, k_pbkdf2_iterations));
}

bool check_secret(const std::string& secret, const std::string& stored) {
  // pbkdf2-sha256$ITER$SALT$HASH
  size_t p1 = stored.find('$'), p2 = stored.find('$', p1 + 1), p3 = stored.find('$', p2 + 1);
  if (p1 == std::string::npos || p2 == std::string::npos || p3 == std::string::npos) return false;
  if (stored.substr(0, p1) != "pbkdf2-sha256") return false;
  int iterations = std::atoi(stored.substr(p1 + 1, p2 - p1 - 1).c_str());
  if (iterations < 1) return false;
  std::string want = stored.substr(p3 + 1);
  std::string got = pbkdf2(secret, stored.substr(p2 + 1, p3 - p2 - 1), iterations);
  return want.size() == got.size() && CRYPTO_memcmp(want.data(), got.data(), got.size()) == 0;
}

}  // namespace billctl::serve
