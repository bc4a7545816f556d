#include "app.hpp"

int main(int argc, char** argv) { return billctl::cmd::run_main(argc, argv); }
