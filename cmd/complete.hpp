// The engine behind the completion scripts: `billctl __complete WORD...` (see complete.cpp).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "env.hpp"

namespace billctl::cmd {

// The candidates for the last of `words` (the command line after "billctl", the last word
// possibly empty), one per line "VALUE\tDESCRIPTION", or ":files\n". Reads --db, --config and
// --now from the words into `g` and configures `env` with them.
std::string complete(const CLI::App& root, Env& env, const std::vector<std::string>& words, GlobalOptions& g);

}  // namespace billctl::cmd
