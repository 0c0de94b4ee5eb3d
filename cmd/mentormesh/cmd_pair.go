package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mentormesh/mentormesh/node/api"
)

func pairCommand() *cli.Command {
	propose := func(typ, usage, usageText string) *cli.Command {
		return &cli.Command{
			Name:      typ,
			Usage:     usage,
			UsageText: usageText,
			ArgsUsage: "PEER_ID",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "your goal, or a word to them (up to 1000 characters; sealed: only the two of you can read it; not from a linked device)", EnvVars: []string{"MENTORMESH_PAIR_MESSAGE"}},
				&cli.DurationFlag{Name: "expires-in", Value: 720 * time.Hour, Usage: "how long they have to answer (1m to 8760h)", EnvVars: []string{"MENTORMESH_PAIR_EXPIRES_IN"}},
				jsonFlag,
			},
			Action: func(c *cli.Context) error { return pairPropose(c, typ) },
		}
	}
	reasonFlag := &cli.StringFlag{Name: "reason", Usage: "why (up to 500 characters; sealed: only the two of you can read it; not from a linked device)", EnvVars: []string{"MENTORMESH_PAIR_REASON"}}
	cmds := []*cli.Command{
		propose(api.PairingRequest, "ask someone to mentor you",
			"mentormesh pair request PEER_ID [--message GOAL] [--expires-in 720h]"),
		propose(api.PairingOffer, "offer to mentor someone",
			"mentormesh pair offer PEER_ID [--message MESSAGE] [--expires-in 720h]"),
		{
			Name:      "accept",
			Usage:     "accept a pairing proposed to you",
			ArgsUsage: "ID",
			Flags:     []cli.Flag{jsonFlag},
			Action:    func(c *cli.Context) error { return pairAct(c, "accept") },
		},
		{
			Name:      "decline",
			Usage:     "decline a pairing proposed to you",
			ArgsUsage: "ID",
			Flags:     []cli.Flag{reasonFlag, jsonFlag},
			Action:    func(c *cli.Context) error { return pairAct(c, "decline") },
		},
		{
			Name:      "cancel",
			Usage:     "withdraw your proposal, or end an active pairing early",
			ArgsUsage: "ID",
			Flags:     []cli.Flag{reasonFlag, jsonFlag},
			Action:    func(c *cli.Context) error { return pairAct(c, "cancel") },
		},
		{
			Name:      "complete",
			Usage:     "complete an active pairing, with feedback for your partner",
			UsageText: "mentormesh pair complete ID [--rating 1-5] [--comment TEXT]",
			ArgsUsage: "ID",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "rating", Usage: "how it went for you, 1 (poor) to 5 (excellent); public: it counts in your partner's outcomes", EnvVars: []string{"MENTORMESH_PAIR_RATING"}},
				&cli.StringFlag{Name: "comment", Usage: "feedback for your partner (up to 2000 characters; sealed: only the two of you can read it, while the rating is public; not from a linked device)", EnvVars: []string{"MENTORMESH_PAIR_COMMENT"}},
				jsonFlag,
			},
			Action: func(c *cli.Context) error { return pairAct(c, "complete") },
		},
		{
			Name:  "list",
			Usage: "list your pairings, most recently changed first",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "state", Usage: "only pairings in this state: pending, active, completed, declined, cancelled or expired", EnvVars: []string{"MENTORMESH_PAIR_STATE"}},
				jsonFlag,
			},
			Action: pairList,
		},
		{
			Name:      "show",
			Usage:     "show a pairing",
			ArgsUsage: "ID",
			Flags:     []cli.Flag{jsonFlag},
			Action:    pairShow,
		},
	}
	return &cli.Command{
		Name:        "pair",
		Usage:       "propose, answer, end and review mentorship pairings",
		Category:    "mentorship",
		Subcommands: append(cmds, pairPrivateSubcommands()...),
	}
}

// pairCommunity is the one --community a pair command acts in, "" if none
// was given.
func pairCommunity(c *cli.Context, command string) (string, error) {
	cs := globalSlice(c, "community")
	if len(cs) > 1 {
		return "", cli.Exit(fmt.Sprintf("pair %s takes one --community", command), 2)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return "", nil
}

func pairPropose(c *cli.Context, typ string) error {
	if c.NArg() != 1 {
		return cli.Exit(fmt.Sprintf("pair %s takes one PEER_ID (their peer ID, from 'mentormesh profile show' or 'mentormesh id' on their machine)", typ), 2)
	}
	community, err := pairCommunity(c, typ)
	if err != nil {
		return err
	}
	in := api.PairingProposal{Community: community, Type: typ, PeerID: c.Args().First(), Message: c.String("message")}
	if c.IsSet("expires-in") {
		in.ExpiresIn = c.Duration("expires-in").String()
	}
	b, err := openBackend(c, "pair "+typ)
	if err != nil {
		return err
	}
	defer b.close()
	p, err := b.ProposePairing(c.Context, in)
	if err != nil {
		return err
	}
	err = emit(c, p, func(w io.Writer) {
		if typ == api.PairingRequest {
			printf(w, "Asked %s to mentor you.\n", partnerLabel(p))
		} else {
			printf(w, "Offered to mentor %s.\n", partnerLabel(p))
		}
		printf(w, "  pairing: %s\n", p.ID)
		if p.ExpiresAt != nil {
			printf(w, "  waiting for their answer until %s\n", localTime(*p.ExpiresAt))
		}
	})
	savedOffline(c, b)
	return err
}

func pairAct(c *cli.Context, action string) error {
	if c.NArg() != 1 {
		return cli.Exit(fmt.Sprintf("pair %s takes one pairing ID ('mentormesh pair list' shows them)", action), 2)
	}
	community, err := pairCommunity(c, action)
	if err != nil {
		return err
	}
	in := api.PairingUpdate{Community: community, Reason: c.String("reason"), Comment: c.String("comment")}
	if c.IsSet("rating") {
		in.Rating = c.Int("rating")
		if in.Rating < 1 || in.Rating > 5 {
			return cli.Exit(fmt.Sprintf("--rating %d: give 1 (poor) to 5 (excellent), or leave it out", in.Rating), 2)
		}
	}
	b, err := openBackend(c, "pair "+action)
	if err != nil {
		return err
	}
	defer b.close()
	id := c.Args().First()
	var p api.Pairing
	switch action {
	case "accept":
		p, err = b.AcceptPairing(c.Context, id, in)
	case "decline":
		p, err = b.DeclinePairing(c.Context, id, in)
	case "cancel":
		p, err = b.CancelPairing(c.Context, id, in)
	case "complete":
		p, err = b.CompletePairing(c.Context, id, in)
	}
	if err != nil {
		return err
	}
	err = emit(c, p, func(w io.Writer) {
		switch {
		case action == "accept":
			printf(w, "Accepted: %s.\n", roleLine(p))
		case action == "decline":
			printf(w, "Declined %s's proposal.\n", partnerName(p))
		case action == "cancel" && p.Proposer == myID(p) && p.MentorSide.Status != "accepted" && p.MenteeSide.Status != "accepted":
			printf(w, "Withdrew your proposal to %s.\n", partnerName(p))
		case action == "cancel":
			printf(w, "Cancelled the pairing with %s.\n", partnerName(p))
		case action == "complete" && (in.Rating != 0 || in.Comment != ""):
			printf(w, "Completed the pairing with %s. Thank you for your feedback.\n", partnerName(p))
		case action == "complete":
			printf(w, "Completed the pairing with %s.\n", partnerName(p))
		}
		printf(w, "  pairing: %s (%s)\n", p.ID, stateLabel(p))
	})
	savedOffline(c, b)
	return err
}

func pairList(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit("pair list takes no arguments (filter with --state)", 2)
	}
	community, err := pairCommunity(c, "list")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "pair list")
	if err != nil {
		return err
	}
	defer b.close()
	ps, err := b.Pairings(c.Context, api.PairingQuery{Community: community, State: c.String("state")})
	if err != nil {
		return err
	}
	return emit(c, ps, func(w io.Writer) {
		if len(ps) == 0 {
			if c.String("state") != "" {
				printf(w, "No %s pairings.\n", c.String("state"))
			} else {
				printf(w, "No pairings yet. Ask a mentor with 'mentormesh pair request PEER_ID --message GOAL'.\n")
			}
			return
		}
		for i, p := range ps {
			if i > 0 {
				printf(w, "\n")
			}
			printf(w, "%s  %s\n  %s\n", p.ID, stateLabel(p), roleLine(p))
			if p.Message != "" {
				printf(w, "  \"%s\"\n", shorten(p.Message, 72))
			}
		}
	})
}

func pairShow(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("pair show takes one pairing ID ('mentormesh pair list' shows them)", 2)
	}
	community, err := pairCommunity(c, "show")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "pair show")
	if err != nil {
		return err
	}
	defer b.close()
	p, err := b.Pairing(c.Context, c.Args().First(), community)
	if err != nil {
		return err
	}
	return emit(c, p, func(w io.Writer) { printPairing(w, p) })
}

func printPairing(w io.Writer, p api.Pairing) {
	printf(w, "Pairing %s (%s)\n", p.ID, p.Community)
	printf(w, "  state:    %s\n", stateLabel(p))
	printf(w, "  mentor:   %s\n", sideLabel(p, p.MentorSide))
	printf(w, "  mentee:   %s\n", sideLabel(p, p.MenteeSide))
	proposer := "the mentee (a request)"
	if p.Type == api.PairingOffer {
		proposer = "the mentor (an offer)"
	}
	printf(w, "  proposed: by %s", proposer)
	if p.CreatedAt != nil {
		printf(w, " on %s", localTime(*p.CreatedAt))
	}
	if p.ExpiresAt != nil && p.State == "pending" {
		printf(w, "; unanswered, it expires on %s", localTime(*p.ExpiresAt))
	}
	printf(w, "\n")
	if p.Message != "" {
		printf(w, "  message:  %s\n", strings.ReplaceAll(p.Message, "\n", "\n            "))
	}
	for _, s := range []struct {
		role string
		side api.PairingSide
	}{{"mentor", p.MentorSide}, {"mentee", p.MenteeSide}} {
		if s.side.Reason != "" {
			printf(w, "  reason:   the %s %s: %s\n", s.role, s.side.Status, s.side.Reason)
		}
		if s.side.TextSealed {
			printf(w, "  sealed:   the %s's record carries text only the two partners can read%s\n", s.role, sealedWhy(p))
		}
	}
	for _, s := range []struct {
		role string
		side api.PairingSide
	}{{"mentor", p.MentorSide}, {"mentee", p.MenteeSide}} {
		if s.side.Rating == 0 && s.side.Comment == "" {
			continue
		}
		printf(w, "  feedback from the %s:", s.role)
		if s.side.Rating > 0 {
			printf(w, " %d/5", s.side.Rating)
		}
		if s.side.Comment != "" {
			printf(w, "\n    %s", strings.ReplaceAll(s.side.Comment, "\n", "\n    "))
		}
		printf(w, "\n")
	}
	if len(p.Actions) > 0 {
		var cmds []string
		for _, a := range p.Actions {
			cmd := "mentormesh pair " + a + " " + p.ID
			if a == "complete" {
				cmd += " --rating 1-5 --comment TEXT"
			}
			cmds = append(cmds, "'"+cmd+"'")
		}
		printf(w, "  next:     %s\n", strings.Join(cmds, " or "))
	}
}

// myID is the caller's peer ID in p ("" if not a party).
func myID(p api.Pairing) string {
	switch p.MyRole {
	case "mentor":
		return p.Mentor
	case "mentee":
		return p.Mentee
	}
	return ""
}

func partnerName(p api.Pairing) string {
	if p.PartnerName != "" {
		return p.PartnerName
	}
	return p.Partner
}

// partnerLabel is "Name (peer ID)", or the peer ID if there is no profile.
func partnerLabel(p api.Pairing) string {
	if p.PartnerName == "" {
		return p.Partner
	}
	return fmt.Sprintf("%s (%s)", p.PartnerName, p.Partner)
}

func sideLabel(p api.Pairing, s api.PairingSide) string {
	who := s.PeerID
	if s.Name != "" {
		who = fmt.Sprintf("%s (%s)", s.Name, s.PeerID)
	}
	if s.PeerID == myID(p) {
		who = "you, " + who
	}
	status := s.Status
	if status == "none" {
		status = "no answer yet"
	}
	return fmt.Sprintf("%s: %s", who, status)
}

// roleLine says who mentors whom, from the caller's side.
func roleLine(p api.Pairing) string {
	switch p.MyRole {
	case "mentor":
		return "you mentor " + partnerLabel(p)
	case "mentee":
		return partnerLabel(p) + " mentors you"
	}
	return fmt.Sprintf("%s mentors %s", sideName(p.MentorSide), sideName(p.MenteeSide))
}

func sideName(s api.PairingSide) string {
	if s.Name == "" {
		return s.PeerID
	}
	return fmt.Sprintf("%s (%s)", s.Name, s.PeerID)
}

// stateLabel is the state and, when the caller is a party, what it waits
// for.
func stateLabel(p api.Pairing) string {
	can := func(a string) bool { return slices.Contains(p.Actions, a) }
	switch {
	case p.State == "pending" && can("accept"):
		return "pending: waiting for your answer"
	case p.State == "pending" && p.MyRole != "":
		return "pending: waiting for their answer"
	case p.State == "completed" && can("complete"):
		return "completed: you have not left your feedback yet"
	case p.State == "expired":
		return "expired: not answered in time"
	}
	return p.State
}

// shorten returns the first line of s, cut to n characters.
func shorten(s string, n int) string {
	line, _, more := strings.Cut(s, "\n")
	r := []rune(line)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	if more {
		return line + " …"
	}
	return line
}

func localTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }

// savedOffline tells the user a write waits for the node (on stderr, so it
// shows with --json too).
func savedOffline(c *cli.Context, b *backend) {
	if !b.online {
		printf(c.App.ErrWriter, "Saved. No node is running: it will be published when you run 'mentormesh run'.\n")
	}
}

// sealedWhy says why this node cannot show a sealed text.
func sealedWhy(p api.Pairing) string {
	if p.MyRole == "" {
		return " (you are not one of them)"
	}
	return " (this is a linked device, or the text was altered; read it on your primary device)"
}
