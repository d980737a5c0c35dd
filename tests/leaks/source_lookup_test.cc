// Finding the line a goroutine blocks on and the blocks around it.
#include "source_lookup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace goro_leaks {
namespace {

namespace fs = std::filesystem;

class SourceLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("goro_source_lookup_" + std::to_string(getpid()));
    fs::create_directories(root_ / "pkg");
    std::ofstream(root_ / "pkg" / "pipe.go") <<
        "package pkg\n"                                   // 1
        "\n"                                              // 2
        "// braces in comments { do not count\n"          // 3
        "func produce(out chan<- int) {\n"                // 4
        "\ts := \"}\" + `{` /* { */\n"                    // 5
        "\tfor i := 0; i < 10; i++ {\n"                   // 6
        "\t\tout <- i\n"                                  // 7
        "\t}\n"                                           // 8
        "\tfor _, r := range rs { go func() { ch <- r }() }\n"  // 9
        "}\n"                                             // 10
        "\n"                                              // 11
        "func wait(ctx context.Context, ch chan int) {\n" // 12
        "\tselect {\n"                                    // 13
        "\tcase <-ctx.Done():\n"                          // 14
        "\tcase v := <-ch:\n"                             // 15
        "\t\t_ = v\n"                                     // 16
        "\t}\n"                                           // 17
        "}\n";                                            // 18
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
};

TEST_F(SourceLookupTest, EnclosingBlocksInnermostFirstSkippingLiteralsAndComments) {
  SourceLookup lookup({});
  auto ctx = lookup.context((root_ / "pkg" / "pipe.go").string(), 7);
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ctx->line, "out <- i");
  ASSERT_EQ(ctx->enclosing.size(), 2u);
  EXPECT_EQ(ctx->enclosing[0], "for i := 0; i < 10; i++ {");
  EXPECT_EQ(ctx->enclosing[1], "func produce(out chan<- int) {");
  EXPECT_TRUE(ctx->block.empty());  // the line opens nothing
}

TEST_F(SourceLookupTest, AClosedBlockIsNoLongerOpen) {
  SourceLookup lookup({});
  auto ctx = lookup.context((root_ / "pkg" / "pipe.go").string(), 9);
  ASSERT_TRUE(ctx.has_value());
  ASSERT_EQ(ctx->enclosing.size(), 1u);  // the for loop of line 6 closed on line 8
  EXPECT_EQ(ctx->enclosing[0], "func produce(out chan<- int) {");
}

TEST_F(SourceLookupTest, ASelectLineGivesItsCases) {
  SourceLookup lookup({});
  auto ctx = lookup.context((root_ / "pkg" / "pipe.go").string(), 13);
  ASSERT_TRUE(ctx.has_value());
  ASSERT_EQ(ctx->block.size(), 5u);
  EXPECT_EQ(ctx->block[1], "case <-ctx.Done():");
  EXPECT_EQ(ctx->block.back(), "}");
}

// -trimpath names files by module path: found under a root with leading
// elements dropped.
TEST_F(SourceLookupTest, ModulePathsResolveUnderARoot) {
  SourceLookup lookup({root_.string()});
  EXPECT_TRUE(lookup.context("example.com/app/pkg/pipe.go", 7).has_value());
  EXPECT_TRUE(lookup.context("pkg/pipe.go", 7).has_value());
  EXPECT_FALSE(lookup.context("pkg/other.go", 7).has_value());
  EXPECT_FALSE(lookup.context("pkg/pipe.go", 0).has_value());
  EXPECT_FALSE(lookup.context("pkg/pipe.go", 19).has_value());  // past the end
  SourceLookup nowhere({});
  EXPECT_FALSE(nowhere.context("pkg/pipe.go", 7).has_value());
}

}  // namespace
}  // namespace goro_leaks
