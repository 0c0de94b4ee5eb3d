package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
)

// stdinValue, given as the value of a private text flag (--title, --notes,
// --text of the pair commands), reads the text from standard input, so it
// stays out of the process list (/proc/PID/cmdline, ps) and shell history.
const stdinValue = "-"

// stdinHint ends the usage of every flag that takes private text.
const stdinHint = "; - reads it from standard input, keeping it out of the process list and shell history"

// privateTextFlag returns the value of flag, a private text of at most max
// characters: the value given, or standard input's if the value is "-".
func privateTextFlag(c *cli.Context, flag string, max int) (string, error) {
	v := c.String(flag)
	if v != stdinValue {
		return v, nil
	}
	return readPrivateText(c.App.Reader, flag, max)
}

// readPrivateText reads a text of at most max characters from r, which it
// reads no further than such a text can take (a character is at most 4
// bytes of UTF-8; a little more for the surrounding white space, such as a
// final newline, that is trimmed). The node checks the text's content.
func readPrivateText(r io.Reader, flag string, max int) (string, error) {
	limit := int64(4*max + 64)
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return "", cli.Exit(fmt.Sprintf("--%s -: reading standard input: %v", flag, err), 1)
	}
	text := strings.TrimSpace(string(data))
	if int64(len(data)) > limit || utf8.RuneCountInString(text) > max {
		return "", cli.Exit(fmt.Sprintf("--%s -: standard input holds more than %d characters, the most --%s takes; shorten the text", flag, max, flag), 2)
	}
	return text, nil
}
