#include "control.h"

#include <doctest/doctest.h>

namespace cinit {

TEST_SUITE("control") {
  using namespace control;

  TEST_CASE("reload and scale") {
    CHECK(std::holds_alternative<Reload>(ParseLine("reload")));
    CHECK(std::holds_alternative<Reload>(ParseLine("  reload \r")));
    auto scale = ParseLine("scale 4");
    REQUIRE(std::holds_alternative<Scale>(scale));
    CHECK(std::get<Scale>(scale).workers == 4);
  }

  TEST_CASE("bad commands are invalid, with a reason") {
    for (std::string_view bad :
         {"reloadx", "RELOAD", "scale", "scale 0", "scale -1", "scale 4x", "scale 99999",
          "stop", "re\x01load", "reload now"}) {
      CAPTURE(bad);
      auto command = ParseLine(bad);
      REQUIRE(std::holds_alternative<Invalid>(command));
      CHECK_FALSE(std::get<Invalid>(command).why.empty());
    }
  }

  TEST_CASE("partial lines wait for their newline, empty lines are skipped") {
    Parser parser;
    std::vector<Command> commands;
    parser.Feed("rel", &commands);
    CHECK(commands.empty());
    parser.Feed("oad\n\n\nscale 2\nsca", &commands);
    REQUIRE(commands.size() == 2);
    CHECK(std::holds_alternative<Reload>(commands[0]));
    CHECK(std::holds_alternative<Scale>(commands[1]));
  }

  TEST_CASE("a 100 KiB line is one Invalid, and the next line still works") {
    Parser parser;
    std::vector<Command> commands;
    std::string huge(100 * 1024, 'x');
    parser.Feed(huge, &commands);
    parser.Feed("\nreload\n", &commands);
    REQUIRE(commands.size() == 2);
    CHECK(std::holds_alternative<Invalid>(commands[0]));
    CHECK(std::holds_alternative<Reload>(commands[1]));
  }

  TEST_CASE("several long lines in one write are each reported, in order") {
    Parser parser;
    std::vector<Command> commands;
    std::string burst =
        std::string(300, 'a') + "\nreload\n" + std::string(300, 'b') + "\nscale 2\n";
    parser.Feed(burst, &commands);
    REQUIRE(commands.size() == 4);
    CHECK(std::holds_alternative<Invalid>(commands[0]));
    CHECK(std::holds_alternative<Reload>(commands[1]));
    CHECK(std::holds_alternative<Invalid>(commands[2]));
    CHECK(std::holds_alternative<Scale>(commands[3]));
  }

  TEST_CASE("binary garbage never throws") {
    Parser parser;
    std::vector<Command> commands;
    std::string garbage;
    for (int i = 0; i < 1024; ++i) {
      garbage.push_back(static_cast<char>(i * 37));
    }
    parser.Feed(garbage, &commands);
    parser.Feed("\nreload\n", &commands);
    CHECK(std::holds_alternative<Reload>(commands.back()));
  }
}

}  // namespace cinit
