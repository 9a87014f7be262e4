// tally prints the most frequent words of a text: its standard input, or a sample text
// when it is run without input, as `docker run --rm lesson-5` does.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"example.com/textstats"
)

const sample = `An image is a stack of layers. Each layer is a set of changes, and the
builder caches each layer, so a layer that has not changed is not built again.`

func main() {
	var input io.Reader = strings.NewReader(sample)
	if info, err := os.Stdin.Stat(); err == nil && info.Mode()&os.ModeCharDevice == 0 && info.Size() > 0 {
		input = os.Stdin
	}
	top, err := textstats.Top(input, 3)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, word := range top {
		fmt.Printf("%d %s\n", word.Count, word.Word)
	}
}
