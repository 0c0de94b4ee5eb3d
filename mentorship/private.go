package mentorship

import "fmt"

func validatePrivateRecord(key string, deleted bool, payload []byte) error {
	return fmt.Errorf("%w %q", ErrUnknownKind, KindPrivate)
}
