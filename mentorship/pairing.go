package mentorship

import "fmt"

func validatePairingRecord(key string, deleted bool, payload []byte) error {
	return fmt.Errorf("%w %q", ErrUnknownKind, KindPairing)
}
