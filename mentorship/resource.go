package mentorship

import "fmt"

func validateResourceRecord(key string, deleted bool, payload []byte) error {
	return fmt.Errorf("%w %q", ErrUnknownKind, KindResource)
}

func validateEndorsementRecord(key string, deleted bool, payload []byte) error {
	return fmt.Errorf("%w %q", ErrUnknownKind, KindEndorsement)
}
