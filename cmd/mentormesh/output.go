package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON (stable field names) instead of text", EnvVars: []string{"MENTORMESH_JSON"}}

// emit prints v as indented JSON when --json is set, else calls text.
func emit(c *cli.Context, v any, text func(w io.Writer)) error {
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(c.App.Writer)
	return nil
}

func printf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
