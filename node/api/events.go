package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// sseKeepAlive is how often an idle event stream sends a comment line, so
// proxies and the browser keep it open and a dead client is noticed.
const sseKeepAlive = 25 * time.Second

// MaxEventStreams caps the event streams open at once: each holds a
// goroutine and a subscription for as long as its client keeps it.
const MaxEventStreams = 32

// sseWriteTimeout ends a stream whose client stops reading: a write that
// cannot complete in this time means the client is gone or stuck.
const sseWriteTimeout = 30 * time.Second

// handleEvents streams events as server-sent events until the client goes,
// the node stops, or the client falls behind (the stream then ends and the
// page reloads and reconnects).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		writeError(w, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: fmt.Sprintf("%d event streams are open already; close some of the node's pages", MaxEventStreams)})
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	events, err := s.b.Subscribe(ctx)
	if err != nil {
		writeError(w, asError(err))
		return
	}
	_, ok := w.(http.Flusher)
	if !ok {
		writeError(w, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "streaming not supported"})
		return
	}
	// No read deadline for this response: it lasts as long as the page (the
	// server's ReadTimeout would otherwise end it). Each write gets its own.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	write := func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if !write(": mentormesh events\n\n") {
		return
	}
	tick := time.NewTicker(sseKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if !write(": keep-alive\n\n") {
				return
			}
		case e, ok := <-events:
			if !ok {
				return
			}
			data, err := json.Marshal(e)
			if err != nil {
				return
			}
			if !write("event: %s\ndata: %s\n\n", e.Type, data) {
				return
			}
		}
	}
}

// Subscribe implements EventsBackend over GET /api/v1/events.
func (c *Client) Subscribe(ctx context.Context) (<-chan Event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	// The client's timeout would cut the stream: use one without.
	hc := *c.hc
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling the node's API at %s: %w", c.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	ch := make(chan Event, 64)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e Event
			if json.Unmarshal([]byte(data), &e) != nil {
				return
			}
			select {
			case ch <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}
