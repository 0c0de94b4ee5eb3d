package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

// demoPractitioner is one demo node's practitioner.
type demoPractitioner struct {
	Name   string
	Bio    string
	Skills []string
}

// demoPractitioners are fictional practitioners of a sociocracy community.
var demoPractitioners = []demoPractitioner{
	{Name: "Amara Okafor", Bio: "Trainer and facilitator; I have helped a dozen cooperatives set up their first circles.",
		Skills: []string{"facilitation", "consent decision-making", "circle structure", "training others"}},
	{Name: "Jonas Lindqvist", Bio: "Secretary of a housing co-op's general circle, learning to facilitate.",
		Skills: []string{"meeting evaluation", "proposal forming", "logbook keeping"}},
	{Name: "Mei Tanaka", Bio: "Organisational designer; I like double linking and helping circles write their aims and domains.",
		Skills: []string{"organisational design", "double linking", "role selection", "feedback"}},
	{Name: "Lucía Herrera", Bio: "School teacher bringing sociocracy into classrooms and the parents' association.",
		Skills: []string{"sociocracy in education", "consent decision-making", "feedback"}},
	{Name: "Samuel Mensah", Bio: "Community organiser; new to sociocracy, looking for a mentor in facilitation.",
		Skills: []string{"community organising", "facilitation"}},
	{Name: "Ingrid Vogel", Bio: "Consultant for sociocratic transitions in small companies.",
		Skills: []string{"organisational design", "role selection", "performance review"}},
	{Name: "Ravi Iyer", Bio: "Software team lead running our team as a circle for two years.",
		Skills: []string{"circle structure", "proposal forming", "meeting evaluation"}},
	{Name: "Chloé Martin", Bio: "Facilitator of online learning circles across time zones.",
		Skills: []string{"facilitation", "online meetings", "training others"}},
	{Name: "Tomasz Nowak", Bio: "Member of an ecovillage's delegate circle.",
		Skills: []string{"delegate circle", "consent decision-making"}},
	{Name: "Aiyana Redcloud", Bio: "Researcher evaluating how communities of practice learn.",
		Skills: []string{"research and evaluation", "feedback", "meeting evaluation"}},
}

// seedDemo gives each node its practitioner's profile and waits until every
// node holds every profile, so the pages open on a populated network.
func seedDemo(ctx context.Context, nodes []*node.Node) error {
	for i, n := range nodes {
		p := demoPractitioners[i%len(demoPractitioners)]
		if _, err := n.Local().SetProfile(ctx, api.ProfileInput{Name: &p.Name, Bio: &p.Bio, Skills: &p.Skills}); err != nil {
			return fmt.Errorf("profile of %s: %w", p.Name, err)
		}
	}
	return waitConverged(ctx, nodes)
}

// waitConverged waits until all nodes report the same digest of the demo
// community.
func waitConverged(ctx context.Context, nodes []*node.Node) error {
	for {
		digests := map[string]bool{}
		for _, n := range nodes {
			st, err := n.Local().Status(ctx)
			if err != nil {
				return err
			}
			digests[st.Digests[demoCommunity]] = true
		}
		if len(digests) == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("demo nodes did not converge: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// demoChange makes node n, whose practitioner is p, change something
// visible on every page.
func demoChange(ctx context.Context, n *node.Node, p demoPractitioner) error {
	bio := fmt.Sprintf("%s (active at %s)", p.Bio, time.Now().Format("15:04:05"))
	_, err := n.Local().SetProfile(ctx, api.ProfileInput{Bio: &bio})
	return err
}
