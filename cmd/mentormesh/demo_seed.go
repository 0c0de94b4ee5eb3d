package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mentormesh/mentormesh/node"
	"github.com/mentormesh/mentormesh/node/api"
)

// demoPractitioner is one demo node's practitioner. Roles, languages, time
// zone and experience make the mentors findable with 'mentor find' and
// counted by 'stats', as on a real network.
type demoPractitioner struct {
	Name   string
	Bio    string
	Skills []string
	// Roles are mentor, mentee or peer; a mentor takes Capacity mentees.
	Roles      []string
	Capacity   int
	Experience string
	Languages  []string
	TimeZone   string
}

// demoPractitioners are fictional practitioners of a sociocracy community.
var demoPractitioners = []demoPractitioner{
	{Name: "Amara Okafor", Bio: "Trainer and facilitator; I have helped a dozen cooperatives set up their first circles.",
		Skills: []string{"facilitation", "consent decision-making", "circle structure", "training others"},
		Roles:  []string{"mentor"}, Capacity: 3, Experience: "trainer", Languages: []string{"en"}, TimeZone: "Africa/Lagos"},
	{Name: "Jonas Lindqvist", Bio: "Secretary of a housing co-op's general circle, learning to facilitate.",
		Skills: []string{"meeting evaluation", "proposal forming", "logbook keeping"},
		Roles:  []string{"mentee"}, Experience: "new", Languages: []string{"en", "sv"}, TimeZone: "Europe/Stockholm"},
	{Name: "Mei Tanaka", Bio: "Organisational designer; I like double linking and helping circles write their aims and domains.",
		Skills: []string{"organisational design", "double linking", "role selection", "feedback"},
		Roles:  []string{"mentor", "peer"}, Capacity: 2, Experience: "experienced", Languages: []string{"en", "ja"}, TimeZone: "Asia/Tokyo"},
	{Name: "Lucía Herrera", Bio: "School teacher bringing sociocracy into classrooms and the parents' association.",
		Skills: []string{"sociocracy in education", "consent decision-making", "feedback"},
		Roles:  []string{"mentor"}, Capacity: 1, Experience: "practising", Languages: []string{"en", "es"}, TimeZone: "America/Bogota"},
	{Name: "Samuel Mensah", Bio: "Community organiser; new to sociocracy, looking for a mentor in facilitation.",
		Skills: []string{"community organising", "facilitation"},
		Roles:  []string{"mentee"}, Experience: "new", Languages: []string{"en"}, TimeZone: "Africa/Accra"},
	{Name: "Ingrid Vogel", Bio: "Consultant for sociocratic transitions in small companies.",
		Skills: []string{"organisational design", "role selection", "performance review"},
		Roles:  []string{"mentor"}, Capacity: 2, Experience: "experienced", Languages: []string{"de", "en"}, TimeZone: "Europe/Berlin"},
	{Name: "Ravi Iyer", Bio: "Software team lead running our team as a circle for two years.",
		Skills: []string{"circle structure", "proposal forming", "meeting evaluation"},
		Roles:  []string{"peer"}, Experience: "practising", Languages: []string{"en", "hi"}, TimeZone: "Asia/Kolkata"},
	{Name: "Chloé Martin", Bio: "Facilitator of online learning circles across time zones.",
		Skills: []string{"facilitation", "online meetings", "training others"},
		Roles:  []string{"mentor"}, Capacity: 2, Experience: "trainer", Languages: []string{"en", "fr"}, TimeZone: "Europe/Paris"},
	{Name: "Tomasz Nowak", Bio: "Member of an ecovillage's delegate circle.",
		Skills: []string{"delegate circle", "consent decision-making"},
		Roles:  []string{"mentee"}, Experience: "practising", Languages: []string{"en", "pl"}, TimeZone: "Europe/Warsaw"},
	{Name: "Aiyana Redcloud", Bio: "Researcher evaluating how communities of practice learn.",
		Skills: []string{"research and evaluation", "feedback", "meeting evaluation"},
		Roles:  []string{"peer"}, Experience: "experienced", Languages: []string{"en"}, TimeZone: "America/Denver"},
}

// demoResource is a resource a demo node shares.
type demoResource struct {
	Type, Title, URL, Text, Description, Language string
	Tags                                          []string
	// Event is the offset of an event's start from now (events only).
	Event time.Duration
	Place string
}

// demoResources are the kinds of resources a sociocracy community shares:
// basic concepts, manuals, facilitation guides, case studies, events and
// templates. The links point at example.org: the demo makes no claim about
// real publications.
var demoResources = []demoResource{
	{Type: "article", Title: "Sociocracy in five minutes: circles, consent and double links", URL: "https://example.org/sociocracy-basics",
		Description: "The basic concepts for newcomers: what a circle is, how consent differs from consensus, and why circles link twice.",
		Tags:        []string{"basics", "consent decision-making", "circle structure"}, Language: "en"},
	{Type: "book", Title: "A practical manual for sociocratic organisations", URL: "https://example.org/manual",
		Description: "Step-by-step manual covering circle meetings, role selection, proposal forming and policy reviews.",
		Tags:        []string{"manual", "role selection", "proposal forming"}, Language: "en"},
	{Type: "guide", Title: "Facilitating a consent round", Text: "1. Present the proposal.\n2. Clarifying questions.\n3. Quick reactions.\n4. Consent round: objections?\n5. Resolve objections, then celebrate.",
		Description: "A one-page facilitation guide to keep on the table.", Tags: []string{"facilitation", "consent decision-making"}, Language: "en"},
	{Type: "case-study", Title: "How a housing co-op moved its general assembly to circles", URL: "https://example.org/coop-case",
		Description: "Two years of practice: what worked, what the members objected to, and the review dates they set.",
		Tags:        []string{"case study", "housing", "organisational design"}, Language: "en"},
	{Type: "event", Title: "Online practice circle: role selection", Text: "Bring a role you want to fill; we practise the selection process together.",
		Tags: []string{"role selection", "practice"}, Language: "en", Event: 7 * 24 * time.Hour, Place: "online"},
	{Type: "template", Title: "Meeting evaluation template", Text: "What went well? What could be better? One word to close.",
		Tags: []string{"meeting evaluation", "template"}, Language: "en"},
	{Type: "video", Title: "Objections are gifts: a short talk", URL: "https://example.org/objections-video",
		Tags: []string{"consent decision-making", "feedback"}, Language: "en"},
}

// seedDemo gives each node its practitioner's profile and some resources,
// has the second practitioner ask the first to mentor them, and waits
// until every node holds every record, so the pages open on a populated
// network with a request to answer.
func seedDemo(ctx context.Context, nodes []*node.Node) error {
	for i, n := range nodes {
		p := demoPractitioners[i%len(demoPractitioners)]
		in := api.ProfileInput{Name: &p.Name, Bio: &p.Bio, Skills: &p.Skills, Roles: &p.Roles,
			Experience: &p.Experience, Languages: &p.Languages, TimeZone: &p.TimeZone}
		if p.Capacity > 0 {
			in.Capacity = &p.Capacity
		}
		if _, err := n.Local().SetProfile(ctx, in); err != nil {
			return fmt.Errorf("profile of %s: %w", p.Name, err)
		}
	}
	for i, r := range demoResources {
		if err := addDemoResource(ctx, nodes[i%len(nodes)], r); err != nil {
			return fmt.Errorf("resource %q: %w", r.Title, err)
		}
	}
	if err := waitConverged(ctx, nodes); err != nil {
		return err
	}
	if len(nodes) > 1 {
		_, err := nodes[1].Local().ProposePairing(ctx, api.PairingProposal{
			Type: api.PairingRequest, PeerID: nodes[0].PeerID(),
			Message: "I'd like to learn to facilitate consent rounds in my co-op.",
		})
		if err != nil {
			return fmt.Errorf("demo pairing request: %w", err)
		}
	}
	return waitConverged(ctx, nodes)
}

func addDemoResource(ctx context.Context, n *node.Node, r demoResource) error {
	in := api.ResourceInput{Type: &r.Type, Title: &r.Title, Tags: &r.Tags, Language: &r.Language}
	for _, f := range []struct {
		v   string
		dst **string
	}{{r.URL, &in.URL}, {r.Text, &in.Text}, {r.Description, &in.Description}, {r.Place, &in.Place}} {
		if f.v != "" {
			v := f.v
			*f.dst = &v
		}
	}
	if r.Event != 0 {
		start := time.Now().Add(r.Event).Truncate(time.Hour)
		end := start.Add(90 * time.Minute)
		in.StartsAt, in.EndsAt = &start, &end
	}
	_, err := n.Local().AddResource(ctx, in)
	return err
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
// visible on every page: endorse a resource it has not endorsed yet, or,
// when none is left, update its bio.
func demoChange(ctx context.Context, n *node.Node, p demoPractitioner) error {
	list, err := n.Local().Resources(ctx, api.ResourceQuery{})
	if err != nil {
		return err
	}
	for _, r := range list.Resources {
		if r.Author != n.PeerID() && !r.EndorsedByMe {
			_, err := n.Local().EndorseResource(ctx, r.ID, api.EndorseInput{Comment: "Helped me in my last circle meeting."})
			return err
		}
	}
	bio := fmt.Sprintf("%s (active at %s)", p.Bio, time.Now().Format("15:04:05"))
	_, err = n.Local().SetProfile(ctx, api.ProfileInput{Bio: &bio})
	return err
}
