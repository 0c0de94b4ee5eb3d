package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/node/api"
)

func resourcePlural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// resourceAuthor names an author: their display name, or an abbreviated
// peer ID when this node has no profile of theirs.
func resourceAuthor(peerID, name string) string {
	if name != "" {
		return name
	}
	if len(peerID) > 16 {
		return peerID[:10] + "…" + peerID[len(peerID)-6:]
	}
	return peerID
}

// resourceWhen formats an event's time span in local time.
func resourceWhen(starts, ends *time.Time) string {
	if starts == nil {
		return ""
	}
	const day, clock = "Mon 2006-01-02 15:04", "15:04"
	s := starts.Local().Format(day)
	if ends != nil {
		e := ends.Local()
		if y1, m1, d1 := starts.Local().Date(); y1 == e.Year() && m1 == e.Month() && d1 == e.Day() {
			s += "–" + e.Format(clock)
		} else {
			s += " – " + e.Format(day)
		}
	}
	return s + " " + starts.Local().Format("MST")
}

// resourceFirstLine returns the first line of s, cut to n characters.
func resourceFirstLine(s string, n int) string {
	s, _, cut := strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	} else if cut {
		return s + " …"
	}
	return s
}

// printResourceList prints each resource in three lines at most: ID, type
// and title; author, endorsements, language and tags; where to find it.
func printResourceList(w io.Writer, list api.ResourceList) {
	if len(list.Resources) == 0 {
		printf(w, "No resources found in community %q.\n", list.Community)
		return
	}
	for _, r := range list.Resources {
		printf(w, "%s  [%s] %s\n", r.ID, r.Type, r.Title)
		meta := []string{"by " + resourceAuthor(r.Author, r.AuthorName), resourcePlural(r.Endorsements, "endorsement")}
		if r.EndorsedByMe {
			meta[1] += " (you too)"
		}
		if r.Language != "" {
			meta = append(meta, r.Language)
		}
		if len(r.Tags) > 0 {
			meta = append(meta, "tags: "+strings.Join(r.Tags, ", "))
		}
		printf(w, "    %s\n", strings.Join(meta, " · "))
		var where []string
		if when := resourceWhen(r.StartsAt, r.EndsAt); when != "" {
			where = append(where, when)
		}
		for _, s := range []string{r.Place, r.Link, r.URL} {
			if s != "" {
				where = append(where, s)
			}
		}
		if len(where) == 0 && r.Text != "" {
			where = append(where, resourceFirstLine(r.Text, 72))
		}
		if len(where) > 0 {
			printf(w, "    %s\n", strings.Join(where, " · "))
		}
	}
	if n := len(list.Resources); n < list.Total {
		printf(w, "(%d of %d shown; --limit 0 shows all)\n", n, list.Total)
	}
}

// printResource prints one resource in full, with its endorsers if known.
func printResource(w io.Writer, d api.ResourceDetail) {
	r := d.Resource
	field := func(name, value string) {
		if value != "" {
			printf(w, "  %-13s %s\n", name+":", strings.ReplaceAll(value, "\n", "\n                "))
		}
	}
	printf(w, "%s\n", r.Title)
	field("type", r.Type)
	field("id", r.ID)
	author := r.Author
	if r.AuthorName != "" {
		author = fmt.Sprintf("%s (%s)", r.AuthorName, r.Author)
	}
	field("author", author)
	field("community", r.Community)
	field("language", r.Language)
	field("tags", strings.Join(r.Tags, ", "))
	field("url", r.URL)
	field("when", resourceWhen(r.StartsAt, r.EndsAt))
	field("place", r.Place)
	field("online", r.Link)
	field("description", r.Description)
	field("text", r.Text)
	e := fmt.Sprint(r.Endorsements)
	if r.EndorsedByMe {
		e += " (yours included)"
	}
	field("endorsements", e)
	for _, en := range d.Endorsers {
		line := fmt.Sprintf("    %s, %s", resourceAuthor(en.PeerID, en.Name), en.At.Local().Format("2006-01-02"))
		if en.Comment != "" {
			line += fmt.Sprintf(": %q", en.Comment)
		}
		printf(w, "%s\n", line)
	}
	field("updated", fmt.Sprintf("%s (version %d)", r.UpdatedAt.Local().Format("2006-01-02 15:04"), r.Version))
}
