// [providers.openai] and [providers.anthropic] of the config file: where the admin key comes from,
// the API's base URL, the settle window, and the attribution of provider ids to billctl's
// dimensions. A key written in the file itself needs the file to be private (mode 0600).
#pragma once

#include <functional>
#include <string>

#include <toml++/toml.h>

#include "billctl/providers/pages.hpp"

namespace billctl::providers {

struct ProviderConfig {
  Mapping mapping;
  std::string base_url;     // empty: the provider's
  std::string admin_key;    // empty when not found
  std::string key_name;     // where the key is looked for: "OPENAI_ADMIN_KEY", or "admin_key in FILE"
  int settle_days = 3;
};

using GetEnv = std::function<std::string(const std::string&)>;

// Reads one provider's table of [providers] (which may be null). Throws DataError "FILE:LINE: ..."
// for unknown keys, wrong types, or a key in a file others can read.
ProviderConfig read_provider_config(Provider p, const toml::table* providers, const std::string& origin,
                                    const GetEnv& getenv, bool file_private);

// The attribution of both providers (for importing saved API pages).
Mappings read_mappings(const toml::table* providers, const std::string& origin);

}  // namespace billctl::providers
