#pragma once

namespace billctl::cmd {

// Parses the command line, runs the chosen command, maps errors to exit codes (SPEC §12).
int run_main(int argc, char** argv);

}  // namespace billctl::cmd
