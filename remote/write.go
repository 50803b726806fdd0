package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// WriteFileAtomic replaces path with data, leaving it with opts' owner and
// mode, and verifies the result by stat: a batch of one write.
func (n *sshNode) WriteFileAtomic(ctx context.Context, path string, data []byte, opts WriteOptions) error {
	return n.writeAtomic(ctx, path, bytes.NewReader(data), int64(len(data)), opts)
}

// writeAtomic streams size bytes from r into path (split out so tests can
// cut the stream and watch the temporary file).
func (n *sshNode) writeAtomic(ctx context.Context, path string, r io.Reader, size int64, opts WriteOptions) error {
	op := FileOp{Kind: OpWrite, Path: path, Opts: opts}
	args, err := batchArgs(op, size)
	if err != nil {
		return fmt.Errorf("node %s: write %q: %w", n.t.Name, path, err)
	}
	err = n.runBatch(ctx, []FileOp{op}, []int64{size}, args, r)
	if be := (*BatchError)(nil); errors.As(err, &be) {
		return fmt.Errorf("node %s: write %s: %w", n.t.Name, path, be.Err)
	}
	return err
}

// verifyWrite checks the stat line the script printed after the rename.
func verifyWrite(path string, line string, size int64, opts WriteOptions) error {
	fi, err := parseStat(path, line)
	if err != nil {
		return fmt.Errorf("verifying: %w", err)
	}
	want := octalFromMode(opts.Mode)
	if got := octalFromMode(fi.Mode); got != want || fi.UID != opts.UID || fi.GID != opts.GID || fi.Size != size {
		return fmt.Errorf("file is mode %o owner %d:%d size %d after the write, asked mode %o owner %d:%d size %d",
			got, fi.UID, fi.GID, fi.Size, want, opts.UID, opts.GID, size)
	}
	return nil
}
