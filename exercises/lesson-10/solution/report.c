/* report: the team's nightly report, reduced to its last line. */
#include <stdio.h>

int main(void) {
  puts("report: the nightly numbers are in");
  return 0;
}
