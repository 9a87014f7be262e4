// Package textstats counts words. It stands in for a third-party dependency: the
// project never edits it, it only updates it now and then.
package textstats

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
)

// WordCount is one word and how often it occurs.
type WordCount struct {
	Word  string
	Count int
}

// Top reads r and returns the n most frequent words, most frequent first; words that
// occur equally often are in alphabetical order. Words are lower-cased runs of letters.
func Top(r io.Reader, n int) ([]WordCount, error) {
	counts := map[string]int{}
	scanner := bufio.NewScanner(r)
	scanner.Split(bufio.ScanWords)
	for scanner.Scan() {
		for _, word := range strings.FieldsFunc(scanner.Text(), func(c rune) bool { return !unicode.IsLetter(c) }) {
			counts[strings.ToLower(word)]++
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("textstats: %w", err)
	}
	words := make([]WordCount, 0, len(counts))
	for word, count := range counts {
		words = append(words, WordCount{word, count})
	}
	sort.Slice(words, func(i, j int) bool {
		if words[i].Count != words[j].Count {
			return words[i].Count > words[j].Count
		}
		return words[i].Word < words[j].Word
	})
	if len(words) > n {
		words = words[:n]
	}
	return words, nil
}
