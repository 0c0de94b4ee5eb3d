package api

import (
	"context"
	"time"
)

// PrivateBackend is what is private to a pairing: goals, the session log,
// notes and contact details, sealed so that only the two partners can read
// them. Only the pairing's two parties may call these; anyone else gets a
// 403 ("you are not a party to this pairing").
//
// Community "" means the joined community that has the pairing.
type PrivateBackend interface {
	// PairItems lists the pairing's items written by either partner,
	// decrypted.
	PairItems(ctx context.Context, community, pairingID string) (PairItems, error)
	// AddGoal adds a goal (status open unless given) to an active pairing.
	AddGoal(ctx context.Context, pairingID string, in GoalInput) (PairItem, error)
	// UpdateGoal changes one of the caller's goals (active or completed
	// pairing).
	UpdateGoal(ctx context.Context, pairingID, goalID string, in GoalUpdate) (PairItem, error)
	// LogSession records a session of an active pairing.
	LogSession(ctx context.Context, pairingID string, in SessionInput) (PairItem, error)
	// AddNote adds a private note to an active pairing.
	AddNote(ctx context.Context, pairingID string, in NoteInput) (PairItem, error)
	// SetContact sets the caller's contact details for the partner (active
	// or completed pairing); it replaces earlier ones.
	SetContact(ctx context.Context, pairingID string, in ContactInput) (PairItem, error)
}

// PairItem is one decrypted item of a pairing. Which fields are set
// depends on Type: goal (title, status, due), session (date,
// duration_minutes, text: the notes), note (text), contact (text).
type PairItem struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Author is the writer's peer ID; Role is "mentor" or "mentee"; Mine
	// is true for the caller's own items.
	Author          string     `json:"author"`
	Role            string     `json:"role"`
	Mine            bool       `json:"mine"`
	Title           string     `json:"title,omitempty"`
	Status          string     `json:"status,omitempty"`
	Due             *time.Time `json:"due,omitempty"`
	Date            *time.Time `json:"date,omitempty"`
	DurationMinutes int        `json:"duration_minutes,omitempty"`
	Text            string     `json:"text,omitempty"`
	Version         uint64     `json:"version"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// PairItems answers GET /api/v1/pairings/{id}/items.
type PairItems struct {
	Community string `json:"community"`
	PairingID string `json:"pairing_id"`
	State     string `json:"state"`
	Mentor    string `json:"mentor"`
	Mentee    string `json:"mentee"`
	// YourRole is the caller's role in the pairing: "mentor" or "mentee".
	YourRole string `json:"your_role"`
	// Goals are ordered by due date (none last), sessions by date, notes
	// by time of writing, contacts mentor first.
	Goals    []PairItem `json:"goals"`
	Sessions []PairItem `json:"sessions"`
	Notes    []PairItem `json:"notes"`
	Contacts []PairItem `json:"contacts"`
	// Unreadable counts the pairing's records by either partner that did
	// not open (altered, or written by an incompatible client). They are
	// skipped.
	Unreadable int `json:"unreadable"`
}

// GoalInput adds a goal (POST /api/v1/pairings/{id}/goals).
type GoalInput struct {
	Community string     `json:"community,omitempty"`
	Title     string     `json:"title"`
	Due       *time.Time `json:"due,omitempty"`
	// Status defaults to "open".
	Status string `json:"status,omitempty"`
}

// GoalUpdate changes a goal (PUT /api/v1/pairings/{id}/goals/{item}). Nil
// fields keep their value.
type GoalUpdate struct {
	Community string     `json:"community,omitempty"`
	Title     *string    `json:"title,omitempty"`
	Status    *string    `json:"status,omitempty"`
	Due       *time.Time `json:"due,omitempty"`
}

// SessionInput logs a session (POST /api/v1/pairings/{id}/sessions).
type SessionInput struct {
	Community       string    `json:"community,omitempty"`
	Date            time.Time `json:"date"`
	DurationMinutes int       `json:"duration_minutes"`
	Notes           string    `json:"notes,omitempty"`
}

// NoteInput adds a note (POST /api/v1/pairings/{id}/notes).
type NoteInput struct {
	Community string `json:"community,omitempty"`
	Text      string `json:"text"`
}

// ContactInput sets contact details (PUT /api/v1/pairings/{id}/contact).
type ContactInput struct {
	Community string `json:"community,omitempty"`
	Text      string `json:"text"`
}
