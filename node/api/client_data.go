package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Export implements Backend: it streams the node's export document to w.
func (c *Client) Export(ctx context.Context, opts ExportOptions, w io.Writer) (ExportResult, error) {
	p := "/api/v1/export"
	if opts.All {
		p += "?" + url.Values{"all": {"true"}}.Encode()
	}
	resp, err := c.stream(ctx, http.MethodGet, p, nil, -1)
	if err != nil {
		return ExportResult{}, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return ExportResult{}, fmt.Errorf("receiving the export (incomplete): %w", err)
	}
	n, err := strconv.Atoi(resp.Trailer.Get(exportCountTrailer))
	if err != nil {
		return ExportResult{}, fmt.Errorf("receiving the export: the node did not confirm its end")
	}
	return ExportResult{Records: n}, nil
}

// Import implements Backend: it streams r to the node. If r can seek (a
// file), its size is sent ahead, so the node refuses a document over
// MaxImportSize before reading it.
func (c *Client) Import(ctx context.Context, r io.Reader) (ImportSummary, error) {
	size := int64(-1)
	if s, ok := r.(io.Seeker); ok {
		cur, err1 := s.Seek(0, io.SeekCurrent)
		end, err2 := s.Seek(0, io.SeekEnd)
		if err1 == nil && err2 == nil {
			if _, err := s.Seek(cur, io.SeekStart); err != nil {
				return ImportSummary{}, fmt.Errorf("reading import: %w", err)
			}
			size = end - cur
		}
	}
	resp, err := c.stream(ctx, http.MethodPost, "/api/v1/import", r, size)
	if err != nil {
		return ImportSummary{}, err
	}
	defer resp.Body.Close()
	var v ImportSummary
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&v); err != nil {
		return ImportSummary{}, fmt.Errorf("decoding API response: %w", err)
	}
	return v, nil
}

// Backup implements Backend: it streams the node's backup file to w.
func (c *Client) Backup(ctx context.Context, w io.Writer) (BackupResult, error) {
	resp, err := c.stream(ctx, http.MethodGet, "/api/v1/backup", nil, -1)
	if err != nil {
		return BackupResult{}, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return BackupResult{Bytes: n}, fmt.Errorf("receiving the backup (incomplete): %w", err)
	}
	return BackupResult{Bytes: n}, nil
}

// stream sends a request whose body (if any) and response are streamed,
// with no overall timeout (ctx bounds it), and returns the response if its
// status is a success; the caller closes its body.
func (c *Client) stream(ctx context.Context, method, path string, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if size >= 0 {
			req.ContentLength = size
		}
	}
	hc := &http.Client{Transport: c.hc.Transport, CheckRedirect: c.hc.CheckRedirect}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling the node's API at %s: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			e.Code, e.Message = CodeInternal, fmt.Sprintf("API answered %s", resp.Status)
		}
		return nil, e
	}
	return resp, nil
}
