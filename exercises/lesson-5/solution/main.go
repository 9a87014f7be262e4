// tally prints the most frequent words of a text: what is piped into it, or a sample text
// when nothing is, as with `docker run --rm lesson-5`.
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
	if info, err := os.Stdin.Stat(); err == nil && info.Mode()&os.ModeNamedPipe != 0 {
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
