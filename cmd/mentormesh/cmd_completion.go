package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionCommand prints shell completion scripts. Bash and zsh ask the
// binary for candidates (urfave/cli's --generate-bash-completion), so they
// stay right as commands change; fish gets a generated static script.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "Load it in your shell's start-up file, for example:\n" +
			"   bash: echo 'source <(mentormesh completion bash)' >> ~/.bashrc\n" +
			"   zsh:  echo 'source <(mentormesh completion zsh)' >> ~/.zshrc\n" +
			"   fish: mentormesh completion fish > ~/.config/fish/completions/mentormesh.fish",
		Category: "node",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("completion takes one shell name: bash, zsh or fish", 2)
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				printf(c.App.Writer, "%s", strings.ReplaceAll(bashCompletion, "PROG", c.App.Name))
			case "zsh":
				printf(c.App.Writer, "%s", strings.ReplaceAll(zshCompletion, "PROG", c.App.Name))
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("generating the fish script: %w", err)
				}
				printf(c.App.Writer, "%s", s)
			default:
				return cli.Exit(fmt.Sprintf("unknown shell %q: want bash, zsh or fish", shell), 2)
			}
			return nil
		},
	}
}

const bashCompletion = `# bash completion for PROG
_PROG_complete() {
  local cur words
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
}
complete -o bashdefault -o default -F _PROG_complete PROG
`

const zshCompletion = `#compdef PROG
_PROG_complete() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _PROG_complete PROG
`
