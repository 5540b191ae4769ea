#include <sidecar/supervisor/exit_status.hpp>

#include <catch2/catch.hpp>

#include <csignal>

#include <sys/wait.h>

using namespace sidecar::supervisor;

TEST_CASE("exit_code_of: the code of an exit, 128 plus the signal of a kill", "[supervisor]") {
  CHECK(exit_code_of(CLD_EXITED, 0) == 0);
  CHECK(exit_code_of(CLD_EXITED, 3) == 3);
  CHECK(exit_code_of(CLD_EXITED, 255) == 255);
  CHECK(exit_code_of(CLD_KILLED, SIGTERM) == 143);
  CHECK(exit_code_of(CLD_KILLED, SIGKILL) == 137);
  CHECK(exit_code_of(CLD_DUMPED, SIGSEGV) == 139);
}

TEST_CASE("exit_code_of_spawn_failure: 127 for not found, 126 for not executable", "[supervisor]") {
  using boost::system::errc::make_error_code;
  CHECK(exit_code_of_spawn_failure(
            make_error_code(boost::system::errc::no_such_file_or_directory)) == 127);
  CHECK(exit_code_of_spawn_failure(make_error_code(boost::system::errc::permission_denied)) == 126);
  CHECK(exit_code_of_spawn_failure(make_error_code(boost::system::errc::executable_format_error)) ==
        126);
}
