package envfile

// Value returns the value systemd would give key from this file (the last
// valid assignment wins) and whether it sets key at all. kmsctl reads the
// daemon's options (MINIO_KMS_OPTS: --host, --config) with it.
func Value(input []byte, key string) (string, bool, error) {
	all, err := readEnv(input, key)
	if err != nil {
		return "", false, err
	}
	v, ok := effectiveEnv(all)[key]
	return v, ok, nil
}
