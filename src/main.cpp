#include <sidecar/app/entry.hpp>

int main(int argc, char** argv) { return sidecar::app::main_entry(argc, argv); }
