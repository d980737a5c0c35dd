// Written by the test author for issue 4.
#include <gtest/gtest.h>
