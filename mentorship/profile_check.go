package mentorship

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The checks in this file are syntactic and depend on nothing but their
// input, so every node accepts or refuses a profile alike.

// CheckLanguage checks a language code: two or three lowercase ASCII
// letters (ISO 639-1 or ISO 639-3). Whether the code is assigned is not
// checked: the lists grow, and nodes must agree without sharing them.
func CheckLanguage(code string) error {
	ok := len(code) == 2 || len(code) == 3
	for i := 0; ok && i < len(code); i++ {
		ok = code[i] >= 'a' && code[i] <= 'z'
	}
	if !ok {
		return fmt.Errorf("%w profile: language %q: want a lowercase ISO 639 code such as en, de or gsw", ErrInvalid, code)
	}
	return nil
}

// CheckTimeZone checks the syntax of a time zone: an IANA name such as
// "Europe/Berlin" or "America/Argentina/Buenos_Aires", or a UTC offset:
// "UTC", "UTC+5", "UTC-03:30" (from UTC-12:00 to UTC+14:00). It does not
// consult a time-zone database, so an IANA-shaped name that no database
// knows passes; matching treats it as unknown.
func CheckTimeZone(tz string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w profile: time zone %q %s: want an IANA name such as Europe/Berlin, or a UTC offset such as UTC+05:30", ErrInvalid, tz, why)
	}
	if len(tz) > MaxTimeZoneLen {
		return bad(fmt.Sprintf("is %d bytes long, at most %d", len(tz), MaxTimeZoneLen))
	}
	if _, isOffset, err := parseUTCOffset(tz); isOffset {
		if err != nil {
			return bad(err.Error())
		}
		return nil
	}
	if tz == "Local" {
		// Go resolves "Local" to the machine's own zone.
		return bad("names no zone")
	}
	parts := strings.Split(tz, "/")
	if len(parts) > 4 {
		return bad("has too many parts")
	}
	for _, p := range parts {
		if p == "" || !isASCIILetter(p[0]) {
			return bad("is not a zone name")
		}
		for i := 1; i < len(p); i++ {
			c := p[i]
			if !isASCIILetter(c) && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '+' && c != '.' {
				return bad("is not a zone name")
			}
		}
	}
	return nil
}

// NormalizeTimeZone trims tz and writes a UTC offset in its canonical form:
// "UTC" for zero, else "UTC+HH:MM". IANA names are kept as given: they are
// case-sensitive.
func NormalizeTimeZone(tz string) string {
	tz = strings.TrimSpace(tz)
	off, isOffset, err := parseUTCOffset(tz)
	if !isOffset || err != nil {
		return tz
	}
	return FormatUTCOffset(off)
}

// FormatUTCOffset writes an offset in seconds as "UTC" or "UTC+HH:MM".
func FormatUTCOffset(seconds int) string {
	if seconds == 0 {
		return "UTC"
	}
	sign := '+'
	if seconds < 0 {
		sign, seconds = '-', -seconds
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, seconds/3600, seconds/60%60)
}

// parseUTCOffset parses the UTC-offset form of a time zone. isOffset tells
// whether tz has that form ("UTC" alone, or "UTC" followed by a sign, in
// any case); err whether the offset after it is malformed or out of range.
func parseUTCOffset(tz string) (seconds int, isOffset bool, err error) {
	if len(tz) < 3 || !strings.EqualFold(tz[:3], "UTC") {
		return 0, false, nil
	}
	rest := tz[3:]
	if rest == "" {
		return 0, true, nil
	}
	sign := 1
	switch rest[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, false, nil
	}
	rest = rest[1:]
	hh, mm := rest, ""
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		hh, mm = rest[:i], rest[i+1:]
		if len(mm) != 2 {
			return 0, true, fmt.Errorf("has a malformed offset")
		}
	} else if len(rest) == 4 {
		hh, mm = rest[:2], rest[2:]
	}
	if len(hh) < 1 || len(hh) > 2 || !allDigits(hh) || !allDigits(mm) {
		return 0, true, fmt.Errorf("has a malformed offset")
	}
	h, _ := strconv.Atoi(hh)
	m := 0
	if mm != "" {
		m, _ = strconv.Atoi(mm)
	}
	if m > 59 {
		return 0, true, fmt.Errorf("has %d minutes", m)
	}
	off := sign * (h*3600 + m*60)
	if off < -12*3600 || off > 14*3600 {
		return 0, true, fmt.Errorf("is outside UTC-12:00 to UTC+14:00")
	}
	return off, true, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// CheckLink checks a link: an absolute http or https URL of printable
// ASCII, at most MaxLinkLen bytes, with a host name (at least one dot) or
// an IP address, an optional port, and no user name or password (which
// would let "https://bank.example@evil.example" pass for the bank's).
// Non-ASCII addresses must be written in their punycode and
// percent-encoded forms.
func CheckLink(link string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w profile: link %.60q %s", ErrInvalid, link, why)
	}
	if len(link) > MaxLinkLen {
		return bad(fmt.Sprintf("is %d bytes long, at most %d", len(link), MaxLinkLen))
	}
	var rest string
	switch {
	case strings.HasPrefix(link, "https://"):
		rest = link[len("https://"):]
	case strings.HasPrefix(link, "http://"):
		rest = link[len("http://"):]
	default:
		return bad("does not start with https:// or http://")
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if strings.Contains(authority, "@") {
		return bad("contains a user name: give the address without it")
	}
	if err := checkAuthority(authority); err != "" {
		return bad(err)
	}
	for i := 0; i < len(tail); i++ {
		c := tail[i]
		switch {
		case c == '%':
			if i+2 >= len(tail) || !isHex(tail[i+1]) || !isHex(tail[i+2]) {
				return bad("has a % not followed by two hex digits")
			}
		case c <= ' ' || c >= 0x7f:
			return bad("contains a space, a control or a non-ASCII character (percent-encode it)")
		case !strings.ContainsRune("-._~:/?#[]@!$&'()*+,;=", rune(c)) && !isASCIILetter(c) && !(c >= '0' && c <= '9'):
			return bad(fmt.Sprintf("contains %q, which a URL may not hold unencoded", c))
		}
	}
	return nil
}

// checkAuthority checks host[:port]; it returns why not, or "".
func checkAuthority(a string) string {
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return "has an unclosed [ in its address"
		}
		host, port = a[1:i], a[i+1:]
		if !isIPv6Literal(host) {
			return "has a malformed IPv6 address"
		}
		if port != "" && port[0] != ':' {
			return "has a malformed address"
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
		if err := checkHostName(host); err != "" {
			return err
		}
	} else if err := checkHostName(host); err != "" {
		return err
	}
	if port != "" || strings.HasSuffix(a, ":") {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return "has a malformed port"
		}
	}
	return ""
}

// isIPv6Literal reports whether h is an IPv6 address in the text form of
// RFC 4291 section 2.2: eight groups of 1 to 4 hex digits separated by ':',
// "::" at most once standing for one or more zero groups, the last two
// groups optionally written as a dotted-decimal IPv4 address (octets 0 to
// 255 without leading zeros). A zone ("%eth0") is refused, and so is a
// bare IPv4 address.
func isIPv6Literal(h string) bool {
	// netip also accepts a zone, and an IPv4 address, which the bracketed
	// form must not hold; checking the characters first refuses both.
	if h == "" || strings.Trim(h, "0123456789abcdefABCDEF:.") != "" || !strings.Contains(h, ":") {
		return false
	}
	addr, err := netip.ParseAddr(h)
	return err == nil && addr.Is6() && addr.Zone() == ""
}

func checkHostName(h string) string {
	if h == "" {
		return "has no host name"
	}
	if len(h) > 253 || !strings.Contains(h, ".") {
		return "needs a full host name such as example.org"
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "has a malformed host name"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isASCIILetter(c) && !(c >= '0' && c <= '9') && c != '-' {
				return "has a malformed host name (write non-ASCII names in punycode, xn--...)"
			}
		}
	}
	return ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// normalizeLink trims a link and lowercases its scheme.
func normalizeLink(l string) string {
	l = strings.TrimSpace(l)
	for _, scheme := range []string{"https://", "http://"} {
		if len(l) >= len(scheme) && strings.EqualFold(l[:len(scheme)], scheme) {
			return scheme + l[len(scheme):]
		}
	}
	return l
}
