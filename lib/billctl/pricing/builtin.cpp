// The built-in list prices (USD per 1M tokens), read from the providers' pricing pages on the
// as_of date of each entry. Kept as JSON so that it goes through the same parser as a user catalog.
#include "billctl/pricing/catalog.hpp"

namespace billctl::pricing {

namespace {
constexpr const char* k_builtin_json = R"json({
 "billctl_catalog": 1,
 "name": "builtin",
 "unit": "per 1M tokens",
 "models": [
  {
   "model": "gpt-5",
   "provider": "openai",
   "effective_from": "2025-08-07",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "1.25",
   "cached_input": "0.125",
   "output": "10.00",
   "batch": "0.5",
   "flex": "0.5",
   "priority": {
    "input": "2.50",
    "cached_input": "0.25",
    "output": "20.00"
   },
   "aliases": [
    "gpt-5-chat-latest"
   ]
  },
  {
   "model": "gpt-5-mini",
   "provider": "openai",
   "effective_from": "2025-08-07",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "0.25",
   "cached_input": "0.025",
   "output": "2.00",
   "batch": "0.5",
   "flex": "0.5",
   "priority": {
    "input": "0.45",
    "cached_input": "0.045",
    "output": "3.60"
   }
  },
  {
   "model": "gpt-5-nano",
   "provider": "openai",
   "effective_from": "2025-08-07",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "0.05",
   "cached_input": "0.005",
   "output": "0.40",
   "batch": "0.5",
   "flex": "0.5"
  },
  {
   "model": "gpt-4.1",
   "provider": "openai",
   "effective_from": "2025-04-14",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "2.00",
   "cached_input": "0.50",
   "output": "8.00",
   "batch": "0.5",
   "priority": {
    "input": "3.50",
    "cached_input": "0.875",
    "output": "14.00"
   }
  },
  {
   "model": "gpt-4.1-mini",
   "provider": "openai",
   "effective_from": "2025-04-14",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "0.40",
   "cached_input": "0.10",
   "output": "1.60",
   "batch": "0.5",
   "priority": {
    "input": "0.70",
    "cached_input": "0.175",
    "output": "2.80"
   }
  },
  {
   "model": "gpt-4.1-nano",
   "provider": "openai",
   "effective_from": "2025-04-14",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "0.10",
   "cached_input": "0.025",
   "output": "0.40",
   "batch": "0.5",
   "priority": {
    "input": "0.20",
    "cached_input": "0.05",
    "output": "0.80"
   }
  },
  {
   "model": "gpt-4o",
   "provider": "openai",
   "effective_from": "2024-05-13",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "5.00",
   "output": "15.00",
   "batch": "0.5"
  },
  {
   "model": "gpt-4o",
   "provider": "openai",
   "effective_from": "2024-10-02",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "2.50",
   "cached_input": "1.25",
   "output": "10.00",
   "batch": "0.5",
   "priority": {
    "input": "4.25",
    "cached_input": "2.125",
    "output": "17.00"
   }
  },
  {
   "model": "gpt-4o-mini",
   "provider": "openai",
   "effective_from": "2024-07-18",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "0.15",
   "cached_input": "0.075",
   "output": "0.60",
   "batch": "0.5",
   "priority": {
    "input": "0.25",
    "cached_input": "0.125",
    "output": "1.00"
   }
  },
  {
   "model": "o3",
   "provider": "openai",
   "effective_from": "2025-04-16",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "10.00",
   "cached_input": "2.50",
   "output": "40.00",
   "batch": "0.5",
   "flex": "0.5"
  },
  {
   "model": "o3",
   "provider": "openai",
   "effective_from": "2025-06-10",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "2.00",
   "cached_input": "0.50",
   "output": "8.00",
   "batch": "0.5",
   "flex": "0.5",
   "priority": {
    "input": "3.50",
    "cached_input": "0.875",
    "output": "14.00"
   }
  },
  {
   "model": "o4-mini",
   "provider": "openai",
   "effective_from": "2025-04-16",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "1.10",
   "cached_input": "0.275",
   "output": "4.40",
   "batch": "0.5",
   "flex": "0.5",
   "priority": {
    "input": "2.00",
    "cached_input": "0.50",
    "output": "8.00"
   }
  },
  {
   "model": "o3-mini",
   "provider": "openai",
   "effective_from": "2025-01-31",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "1.10",
   "cached_input": "0.55",
   "output": "4.40",
   "batch": "0.5"
  },
  {
   "model": "o1",
   "provider": "openai",
   "effective_from": "2024-12-17",
   "as_of": "2025-11-15",
   "source": "https://openai.com/api/pricing/",
   "currency": "USD",
   "input": "15.00",
   "cached_input": "7.50",
   "output": "60.00",
   "batch": "0.5"
  },
  {
   "model": "claude-opus-4-5",
   "provider": "anthropic",
   "effective_from": "2025-11-24",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "5",
   "cached_input": "0.5",
   "cache_write_5m": "6.25",
   "cache_write_1h": "10",
   "output": "25",
   "batch": "0.5",
   "aliases": [
    "claude-opus-4-5-20251101"
   ]
  },
  {
   "model": "claude-opus-4-1",
   "provider": "anthropic",
   "effective_from": "2025-08-05",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "15",
   "cached_input": "1.5",
   "cache_write_5m": "18.75",
   "cache_write_1h": "30",
   "output": "75",
   "batch": "0.5",
   "aliases": [
    "claude-opus-4-1-20250805"
   ]
  },
  {
   "model": "claude-opus-4",
   "provider": "anthropic",
   "effective_from": "2025-05-22",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "15",
   "cached_input": "1.5",
   "cache_write_5m": "18.75",
   "cache_write_1h": "30",
   "output": "75",
   "batch": "0.5",
   "aliases": [
    "claude-opus-4-0",
    "claude-opus-4-20250514"
   ]
  },
  {
   "model": "claude-sonnet-4-5",
   "provider": "anthropic",
   "effective_from": "2025-09-29",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "3",
   "cached_input": "0.3",
   "cache_write_5m": "3.75",
   "cache_write_1h": "6",
   "output": "15",
   "batch": "0.5",
   "aliases": [
    "claude-sonnet-4-5-20250929"
   ],
   "long_context": {
    "threshold": 200000,
    "input": "6",
    "cached_input": "0.6",
    "cache_write_5m": "7.5",
    "cache_write_1h": "12",
    "output": "22.50"
   }
  },
  {
   "model": "claude-sonnet-4",
   "provider": "anthropic",
   "effective_from": "2025-05-22",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "3",
   "cached_input": "0.3",
   "cache_write_5m": "3.75",
   "cache_write_1h": "6",
   "output": "15",
   "batch": "0.5",
   "aliases": [
    "claude-sonnet-4-0",
    "claude-sonnet-4-20250514"
   ],
   "long_context": {
    "threshold": 200000,
    "input": "6",
    "cached_input": "0.6",
    "cache_write_5m": "7.5",
    "cache_write_1h": "12",
    "output": "22.50"
   }
  },
  {
   "model": "claude-3-7-sonnet",
   "provider": "anthropic",
   "effective_from": "2025-02-24",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "3",
   "cached_input": "0.3",
   "cache_write_5m": "3.75",
   "cache_write_1h": "6",
   "output": "15",
   "batch": "0.5",
   "aliases": [
    "claude-3-7-sonnet-20250219"
   ]
  },
  {
   "model": "claude-haiku-4-5",
   "provider": "anthropic",
   "effective_from": "2025-10-15",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "1",
   "cached_input": "0.1",
   "cache_write_5m": "1.25",
   "cache_write_1h": "2",
   "output": "5",
   "batch": "0.5",
   "aliases": [
    "claude-haiku-4-5-20251001"
   ]
  },
  {
   "model": "claude-3-5-haiku",
   "provider": "anthropic",
   "effective_from": "2024-10-22",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "0.80",
   "cached_input": "0.08",
   "cache_write_5m": "1",
   "cache_write_1h": "1.6",
   "output": "4",
   "batch": "0.5",
   "aliases": [
    "claude-3-5-haiku-20241022"
   ]
  },
  {
   "model": "claude-3-haiku",
   "provider": "anthropic",
   "effective_from": "2024-03-07",
   "as_of": "2025-11-15",
   "source": "https://docs.claude.com/en/docs/about-claude/pricing",
   "currency": "USD",
   "input": "0.25",
   "cached_input": "0.025",
   "cache_write_5m": "0.3125",
   "cache_write_1h": "0.5",
   "output": "1.25",
   "batch": "0.5",
   "aliases": [
    "claude-3-haiku-20240307"
   ]
  },
  {
   "model": "gemini-2.5-pro",
   "provider": "google",
   "effective_from": "2025-03-25",
   "as_of": "2025-11-15",
   "source": "https://ai.google.dev/gemini-api/docs/pricing",
   "currency": "USD",
   "input": "1.25",
   "cached_input": "0.125",
   "output": "10.00",
   "batch": "0.5",
   "long_context": {
    "threshold": 200000,
    "input": "2.50",
    "cached_input": "0.25",
    "output": "15.00"
   }
  },
  {
   "model": "gemini-2.5-flash",
   "provider": "google",
   "effective_from": "2025-04-17",
   "as_of": "2025-11-15",
   "source": "https://ai.google.dev/gemini-api/docs/pricing",
   "currency": "USD",
   "input": "0.30",
   "cached_input": "0.03",
   "output": "2.50",
   "batch": "0.5"
  },
  {
   "model": "gemini-2.5-flash-lite",
   "provider": "google",
   "effective_from": "2025-06-17",
   "as_of": "2025-11-15",
   "source": "https://ai.google.dev/gemini-api/docs/pricing",
   "currency": "USD",
   "input": "0.10",
   "cached_input": "0.01",
   "output": "0.40",
   "batch": "0.5"
  },
  {
   "model": "gemini-2.0-flash",
   "provider": "google",
   "effective_from": "2025-02-05",
   "as_of": "2025-11-15",
   "source": "https://ai.google.dev/gemini-api/docs/pricing",
   "currency": "USD",
   "input": "0.10",
   "cached_input": "0.025",
   "output": "0.40",
   "batch": "0.5"
  },
  {
   "model": "gemini-2.0-flash-lite",
   "provider": "google",
   "effective_from": "2025-02-05",
   "as_of": "2025-11-15",
   "source": "https://ai.google.dev/gemini-api/docs/pricing",
   "currency": "USD",
   "input": "0.075",
   "output": "0.30",
   "batch": "0.5"
  },
  {
   "model": "gemini-1.5-pro",
   "provider": "google",
   "effective_from": "2024-05-14",
   "as_of": "2025-11-15",
   "source": "https://ai.google.dev/gemini-api/docs/pricing",
   "currency": "USD",
   "input": "1.25",
   "cached_input": "0.3125",
   "output": "5.00",
   "batch": "0.5",
   "long_context": {
    "threshold": 128000,
    "input": "2.50",
    "cached_input": "0.625",
    "output": "10.00"
   }
  },
  {
   "model": "gemini-1.5-flash",
   "provider": "google",
   "effective_from": "2024-05-14",
   "as_of": "2025-11-15",
   "source": "https://ai.google.dev/gemini-api/docs/pricing",
   "currency": "USD",
   "input": "0.075",
   "cached_input": "0.01875",
   "output": "0.30",
   "batch": "0.5",
   "long_context": {
    "threshold": 128000,
    "input": "0.15",
    "cached_input": "0.0375",
    "output": "0.60"
   }
  }
 ]
})json";
}  // namespace

Catalog Catalog::builtin() { return Catalog(parse_catalog_json(k_builtin_json, "builtin catalog"), "builtin"); }

}  // namespace billctl::pricing
