#include "watch_plan.h"

#include <doctest/doctest.h>

#include <map>

namespace cinit::watch {
namespace {

// A file system of a few paths; every other path is missing ("/" is a directory).
KindOf Fs(std::map<std::string, Kind> paths) {
  paths["/"] = Kind::kDirectory;
  return [paths](const std::string& path) {
    auto it = paths.find(path);
    return it == paths.end() ? Kind::kMissing : it->second;
  };
}

TEST_SUITE("watch_plan") {
  TEST_CASE("normalizes an absolute path") {
    std::string out;
    CHECK(Normalize("/etc//app/", &out).ok());
    CHECK(out == "/etc/app");
    CHECK(Normalize("/", &out).ok());
    CHECK(out == "/");
    CHECK(Normalize("///", &out).ok());
    CHECK(out == "/");
  }

  TEST_CASE("refuses relative paths, dot components, NUL and overlong paths") {
    std::string out;
    CHECK(Normalize("config.json", &out).message() ==
          "--reload-on-change: 'config.json' is not an absolute path");
    CHECK_FALSE(Normalize("", &out).ok());
    CHECK(Normalize("/a/../b", &out).message().find("'..' component") !=
          std::string::npos);
    CHECK_FALSE(Normalize("/a/./b", &out).ok());
    CHECK_FALSE(Normalize(std::string_view("/a\0b", 4), &out).ok());
    CHECK(Normalize("/" + std::string(kMaxPathLength - 1, 'x'), &out).ok());
    CHECK(Normalize("/" + std::string(kMaxPathLength, 'x'), &out)
              .message()
              .find("longer than 1024 bytes") != std::string::npos);
  }

  TEST_CASE("a file is watched through its parent, with the kubelet's ..data") {
    Plan plan = MakePlan("/app/config/config.json",
                         Fs({{"/app", Kind::kDirectory},
                             {"/app/config", Kind::kDirectory},
                             {"/app/config/config.json", Kind::kOther}}));
    CHECK(plan.kind == Kind::kOther);
    REQUIRE(plan.watches.size() == 1);
    CHECK(plan.watches[0] == Watch{"/app/config", "config.json", true});
  }

  TEST_CASE("a directory is watched itself and through its parent") {
    Plan plan =
        MakePlan("/app/config",
                 Fs({{"/app", Kind::kDirectory}, {"/app/config", Kind::kDirectory}}));
    CHECK(plan.kind == Kind::kDirectory);
    REQUIRE(plan.watches.size() == 2);
    CHECK(plan.watches[0] == Watch{"/app", "config", true});
    CHECK(plan.watches[1] == Watch{"/app/config", "", false});
  }

  TEST_CASE("a missing path is waited for at its nearest existing ancestor") {
    SUBCASE("its parent exists") {
      Plan plan = MakePlan("/srv/new.json", Fs({{"/srv", Kind::kDirectory}}));
      CHECK(plan.kind == Kind::kMissing);
      REQUIRE(plan.watches.size() == 1);
      CHECK(plan.watches[0] == Watch{"/srv", "new.json", true});
    }
    SUBCASE("two levels are missing") {
      Plan plan = MakePlan("/srv/a/b/c.json", Fs({{"/srv", Kind::kDirectory}}));
      REQUIRE(plan.watches.size() == 1);
      CHECK(plan.watches[0] == Watch{"/srv", "a", false});
    }
    SUBCASE("a file stands where a directory should") {
      Plan plan = MakePlan("/srv/a/c.json",
                           Fs({{"/srv", Kind::kDirectory}, {"/srv/a", Kind::kOther}}));
      REQUIRE(plan.watches.size() == 1);
      CHECK(plan.watches[0] == Watch{"/srv", "a", false});
    }
    SUBCASE("nothing but the root exists") {
      Plan plan = MakePlan("/x/y", Fs({}));
      REQUIRE(plan.watches.size() == 1);
      CHECK(plan.watches[0] == Watch{"/", "x", false});
    }
  }

  TEST_CASE("the root itself") {
    Plan plan = MakePlan("/", Fs({}));
    CHECK(plan.kind == Kind::kDirectory);
    REQUIRE(plan.watches.size() == 1);
    CHECK(plan.watches[0] == Watch{"/", "", false});
  }

  TEST_CASE("never more than two watches per path") {
    for (const char* path : {"/", "/a", "/a/b", "/a/b/c/d/e/f"}) {
      for (Kind kind : {Kind::kMissing, Kind::kDirectory, Kind::kOther}) {
        Plan plan = MakePlan(path, [kind](const std::string&) { return kind; });
        CHECK(plan.watches.size() <= kMaxWatchesPerPath);
      }
    }
  }

  TEST_CASE("a kubelet swap in a watched directory is one change") {
    const Watch dir{"/app/config", "", false};
    // The kubelet's steps, in order: only the rename over ..data counts.
    CHECK_FALSE(Judge(dir, What::kEntry, "..2026_12_02_10_00_00.123").changed);
    CHECK_FALSE(Judge(dir, What::kEntry, "..data_tmp").changed);
    CHECK(Judge(dir, What::kEntry, "..data").changed);
    CHECK_FALSE(Judge(dir, What::kEntry, "..2026_12_01_09_00_00.456").changed);
    CHECK(Judge(dir, What::kEntry, "config.json").changed);
    CHECK_FALSE(Judge(dir, What::kEntry, "config.json").replan);
  }

  TEST_CASE("a file's parent counts the file and ..data only") {
    const Watch parent{"/app/config", "config.json", true};
    CHECK(Judge(parent, What::kEntry, "config.json").changed);
    CHECK(Judge(parent, What::kEntry, "config.json").replan);
    CHECK(Judge(parent, What::kEntry, "..data").changed);
    CHECK_FALSE(Judge(parent, What::kEntry, "..data_tmp").changed);
    CHECK_FALSE(Judge(parent, What::kEntry, "other.json").changed);
    CHECK_FALSE(Judge(parent, What::kEntry, "other.json").replan);
  }

  TEST_CASE("an ancestor's entry re-arms without being a change") {
    const Watch ancestor{"/srv", "a", false};
    Verdict verdict = Judge(ancestor, What::kEntry, "a");
    CHECK_FALSE(verdict.changed);
    CHECK(verdict.replan);
    CHECK_FALSE(Judge(ancestor, What::kEntry, "..data").changed);
    CHECK_FALSE(Judge(ancestor, What::kEntry, "b").replan);
  }

  TEST_CASE(
      "a watched directory that goes re-arms, and is a change when it was the path") {
    CHECK(Judge(Watch{"/app/config", "", false}, What::kSelfGone, "").changed);
    CHECK(Judge(Watch{"/app/config", "", false}, What::kSelfGone, "").replan);
    CHECK_FALSE(Judge(Watch{"/app", "config", true}, What::kSelfGone, "").changed);
    CHECK(Judge(Watch{"/app", "config", true}, What::kSelfGone, "").replan);
  }

  TEST_CASE("an overflow is a change and re-arms") {
    Verdict verdict = Judge(Watch{"/srv", "a", false}, What::kOverflow, "");
    CHECK(verdict.changed);
    CHECK(verdict.replan);
  }
}

}  // namespace
}  // namespace cinit::watch
